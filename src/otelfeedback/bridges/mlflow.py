"""The MLflow bridge: spans over OTLP, assessments as MLflow assessments.

Mapping (MLflow's assessment model is ours, field for field):

- create → ``POST /api/3.0/mlflow/traces/tr-<trace>/assessments`` with our assessment id
  (MLflow keeps a client-given id, and ours have its ``a-<hex>`` form), name, span, source
  (HUMAN / LLM_JUDGE / CODE and its id), ``feedback.value`` (or ``feedback.error``) or
  ``expectation.value``, rationale, metadata (values as strings, JSON for non-strings), create
  and update times, and ``overrides`` for an override (MLflow then marks the old one invalid);
- update → ``PATCH .../assessments/<id>`` (name, value, rationale, metadata);
- delete → ``DELETE .../assessments/<id>`` (deleting an override makes MLflow restore the
  one it replaced, as we do).

Writes are idempotent: a create that already happened (a retry after a lost answer, a
replay) becomes an update, an update of an assessment MLflow never got becomes a create.
MLflow answers 404 for a trace it has not stored yet: the write is retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from otelfeedback._internal.http import RETRYABLE_STATUSES, HttpResponse, request_json
from otelfeedback.bridges.exporter import BridgeSpanExporter
from otelfeedback.bridges.log import Assessment, Change
from otelfeedback.bridges.worker import DONE, Op, Result
from otelfeedback.export.otlp_http import OTLPHttpSpanExporter

EXPERIMENT_HEADER = "x-mlflow-experiment-id"


def mlflow_trace_id(trace_id: str) -> str:
    """MLflow's id of an OTel trace: ``tr-`` and the 32 hex digits."""
    return "tr-" + trace_id


def _timestamp(ms: Any) -> str | None:
    if not isinstance(ms, int):
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def _metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    return {
        str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        for k, v in (metadata or {}).items()
    }


def assessment_body(assessment: Assessment) -> dict[str, Any]:
    """The MLflow assessment of one of ours (``to_dict()`` form)."""
    source = assessment.get("source") or {}
    body: dict[str, Any] = {
        "assessment_id": assessment["assessment_id"],
        "assessment_name": assessment["name"],
        "trace_id": mlflow_trace_id(assessment["trace_id"]),
        "source": {
            "source_type": source.get("source_type") or "CODE",
            "source_id": source.get("source_id") or "default",
        },
        "metadata": _metadata(assessment.get("metadata")),
    }
    if assessment.get("span_id"):
        body["span_id"] = assessment["span_id"]
    if assessment.get("kind") == "expectation":
        body["expectation"] = {"value": assessment.get("value")}
    else:
        feedback: dict[str, Any] = {}
        if assessment.get("value") is not None:
            feedback["value"] = assessment["value"]
        if assessment.get("error"):
            feedback["error"] = assessment["error"]
        body["feedback"] = feedback
    if assessment.get("rationale"):
        body["rationale"] = assessment["rationale"]
    if assessment.get("overrides"):
        body["overrides"] = assessment["overrides"]
    for ours, theirs in (
        ("create_time_ms", "create_time"),
        ("last_update_time_ms", "last_update_time"),
    ):
        stamp = _timestamp(assessment.get(ours))
        if stamp is not None:
            body[theirs] = stamp
    return body


def _update_mask(body: Mapping[str, Any]) -> str:
    """The PATCH's field mask, in protobuf's JSON form (lowerCamelCase paths: a snake_case
    path is silently ignored by MLflow)."""
    paths = ["assessmentName", "expectation" if "expectation" in body else "feedback", "metadata"]
    if "rationale" in body:
        paths.append("rationale")
    return ",".join(paths)


class MLflowWriter:
    """Plans and sends MLflow assessment writes (one request each)."""

    def __init__(self, url: str, headers: Mapping[str, str], timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.headers = dict(headers)
        self.timeout_s = timeout_s

    def plan(self, change: Change, resource: Mapping[str, Any]) -> list[Op]:
        record = change.record
        if record.operation == "delete":
            payload = {"assessment_id": record.assessment_id}
            return [Op(record.trace_id, "delete", payload)]
        if change.current is None:
            return []
        action = "create" if record.operation == "create" else "update"
        return [Op(record.trace_id, action, assessment_body(change.current))]

    # -- sending ---------------------------------------------------------------------------
    def execute(self, ops: Sequence[Op]) -> list[Result]:
        return [self._execute(op) for op in ops]

    def _assessments_url(self, trace_id: str) -> str:
        return f"{self.url}/api/3.0/mlflow/traces/{mlflow_trace_id(trace_id)}/assessments"

    def _execute(self, op: Op) -> Result:
        base = self._assessments_url(op.trace_id)
        try:
            if op.action == "delete":
                response = self._call("DELETE", f"{base}/{op.payload['assessment_id']}", None)
                return DONE if response.ok or _missing(response, "Trace") else _result(response)
            if op.action == "create":
                return self._create(base, op.payload)
            return self._update(base, op.payload)
        except OSError as exc:
            return Result("retry", f"{type(exc).__name__}: {exc}")

    def _call(self, method: str, url: str, payload: Any) -> HttpResponse:
        return request_json(method, url, payload, self.headers, self.timeout_s)

    def _create(self, base: str, body: dict[str, Any]) -> Result:
        response = self._call("POST", base, {"assessment": body})
        if response.ok:
            return DONE
        if body.get("overrides") and _missing(response, "Assessment"):
            # MLflow never got the assessment this one overrides: keep the new one anyway.
            trimmed = {k: v for k, v in body.items() if k != "overrides"}
            return self._create(base, trimmed)
        if "constraint" in response.text(2000):  # it exists already (a retry, a replay)
            return self._update(base, body, create_if_missing=False)
        return _result(response)

    def _update(self, base: str, body: dict[str, Any], create_if_missing: bool = True) -> Result:
        url = f"{base}/{body['assessment_id']}"
        payload = {"assessment": body, "update_mask": _update_mask(body)}
        response = self._call("PATCH", url, payload)
        if response.ok:
            return DONE
        if create_if_missing and _missing(response, "Assessment"):
            return self._create(base, body)
        return _result(response)


def _missing(response: HttpResponse, what: str) -> bool:
    """A 404 about a missing ``what`` (``Trace`` or ``Assessment``)."""
    return response.status == 404 and f"{what} with ID" in response.text(2000)


def _result(response: HttpResponse) -> Result:
    message = f"HTTP {response.status}: {response.text(300)}"
    if response.status == 404 or response.status in RETRYABLE_STATUSES or response.status >= 500:
        return Result("retry", message)  # 404: the trace is not stored yet
    return Result("failed", message)


class MLflowBridge(BridgeSpanExporter):
    """Export to an MLflow tracking server: spans over OTLP/HTTP, assessments natively.

    ::

        bridge = MLflowBridge("http://127.0.0.1:5000", experiment_id="1")
        otelfeedback.configure(exporters=[bridge])

    Args:
        url: the tracking server's base URL, e.g. ``http://127.0.0.1:5000``.
        experiment_id: the experiment the traces go to (the ``x-mlflow-experiment-id``
            header MLflow's OTLP endpoint requires); default: that header from ``headers``,
            else ``"0"`` (MLflow's Default experiment).
        headers: sent with every request, OTLP and REST (e.g. ``authorization``).
        otlp_endpoint: the OTLP traces URL, when not ``{url}/v1/traces``.
        timeout_s: seconds per request.
        compression: ``"gzip"`` for the OTLP requests.
        retry_for_s: how long a write MLflow cannot take yet is retried.
        queue_size: assessment writes held at most.
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:5000",
        *,
        experiment_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        otlp_endpoint: str | None = None,
        timeout_s: float = 10.0,
        compression: str | None = None,
        retry_for_s: float = 60.0,
        queue_size: int = 2048,
    ) -> None:
        base = url.rstrip("/")
        all_headers = {k.lower(): v for k, v in (headers or {}).items()}
        all_headers[EXPERIMENT_HEADER] = str(
            experiment_id or all_headers.get(EXPERIMENT_HEADER) or "0"
        )
        otlp = OTLPHttpSpanExporter(
            otlp_endpoint or base + "/v1/traces", all_headers, timeout_s, compression
        )
        writer = MLflowWriter(base, all_headers, timeout_s)
        super().__init__(otlp, writer, "mlflow", queue_size, retry_for_s)
