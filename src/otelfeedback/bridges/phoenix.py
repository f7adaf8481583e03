"""The Arize Phoenix bridge: spans over OTLP, assessments as Phoenix annotations.

Mapping (one annotation per valid assessment):

- a span-level assessment → a *span annotation* (``POST /v1/span_annotations?sync=true``), a
  trace-level one → a *trace annotation* (``POST /v1/trace_annotations?sync=true``);
- ``name``; ``result.score`` / ``result.label`` / ``result.explanation`` as the OpenInference
  annotation of our wire format (booleans → score 1/0 and label ``true``/``false``, numbers →
  score, strings → label, the rationale → explanation); ``annotator_kind`` from the source
  type (HUMAN, LLM_JUDGE → LLM, CODE); ``metadata`` with ``otelfeedback.kind`` and
  ``otelfeedback.source_id``; ``identifier`` = our assessment id, so an update upserts;
- an override writes the new annotation and deletes the one it replaces (Phoenix has no
  "invalid" flag, and its charts average every annotation of a name); deleting the override
  writes the replaced one again; a delete removes the annotation
  (``DELETE /v1/projects/{project}/{span|trace}_annotations?identifier=...``).

Phoenix answers 404 until it has ingested the span or trace: the write is retried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from otelfeedback._internal.http import RETRYABLE_STATUSES, request_json
from otelfeedback.assessments.wire import annotation
from otelfeedback.bridges.exporter import BridgeSpanExporter
from otelfeedback.bridges.log import Assessment, Change, flat_fields
from otelfeedback.bridges.worker import DONE, Op, Result
from otelfeedback.export.otlp_http import OTLPHttpSpanExporter

PROJECT_ATTRIBUTE = "openinference.project.name"
PROJECT_HEADER = "x-project-name"


def annotation_body(assessment: Assessment) -> dict[str, Any]:
    """The Phoenix span or trace annotation of an assessment (``to_dict()`` form)."""
    fields = annotation(flat_fields(assessment))
    result = {k: fields[k] for k in ("label", "score", "explanation") if k in fields}
    body: dict[str, Any] = {
        "name": fields["name"],
        "annotator_kind": fields.get("annotator_kind", "CODE"),
        "identifier": fields["identifier"],
        "result": result,
        "metadata": fields["metadata"],
    }
    if assessment.get("span_id"):
        body["span_id"] = assessment["span_id"]
    else:
        body["trace_id"] = assessment["trace_id"]
    return body


def _scope(assessment: Assessment | None) -> list[str]:
    if assessment is None or "span_id" not in assessment:
        return ["span", "trace"]  # unknown: remove it from both
    return ["span" if assessment.get("span_id") else "trace"]


class PhoenixWriter:
    """Plans and sends Phoenix annotation writes."""

    def __init__(
        self, url: str, headers: Mapping[str, str], project: str | None, timeout_s: float
    ) -> None:
        self.url = url.rstrip("/")
        self.headers = dict(headers)
        self.project = project
        self.timeout_s = timeout_s

    def _project(self, resource: Mapping[str, Any]) -> str:
        return str(self.project or resource.get(PROJECT_ATTRIBUTE) or "default")

    def _put(self, assessment: Assessment) -> Op:
        body = annotation_body(assessment)
        scope = "span" if "span_id" in body else "trace"
        return Op(assessment["trace_id"], "write", body, batch_key=scope)

    def _drop(
        self, assessment: Assessment | None, aid: str, trace_id: str, project: str
    ) -> list[Op]:
        return [
            Op(trace_id, "delete", {"identifier": aid, "project": project, "scope": scope})
            for scope in _scope(assessment)
        ]

    def plan(self, change: Change, resource: Mapping[str, Any]) -> list[Op]:
        record, project = change.record, self._project(resource)
        ops: list[Op] = []
        if record.operation == "delete":
            ops += self._drop(change.previous, record.assessment_id, record.trace_id, project)
            if change.restored is not None:
                ops.append(self._put(change.restored))
            return ops
        current = change.current
        if current is not None and current.get("valid", True):
            ops.append(self._put(current))
        if change.overridden is not None:
            old = change.overridden
            ops += self._drop(old, old["assessment_id"], record.trace_id, project)
        return ops

    # -- sending ---------------------------------------------------------------------------
    def execute(self, ops: Sequence[Op]) -> list[Result]:
        if ops[0].action == "delete":
            return [self._delete(op) for op in ops]
        result = self._write(ops)
        if result.outcome == "retry" and len(ops) > 1 and "404" in result.message:
            # One span of the batch is not ingested yet: do not hold the others back.
            return [self._write([op]) for op in ops]
        return [result] * len(ops)

    def _write(self, ops: Sequence[Op]) -> Result:
        scope = ops[0].batch_key
        url = f"{self.url}/v1/{scope}_annotations?sync=true"
        payload = {"data": [op.payload for op in ops]}
        return self._send("POST", url, payload)

    def _delete(self, op: Op) -> Result:
        p = op.payload
        query = urlencode({"identifier": p["identifier"], "delete_all": "true"})
        project = quote(str(p["project"]), safe="")
        url = f"{self.url}/v1/projects/{project}/{p['scope']}_annotations?{query}"
        result = self._send("DELETE", url, None)
        if result.outcome != "done" and "404" in result.message:
            return DONE  # no such project yet: nothing to delete
        return result

    def _send(self, method: str, url: str, payload: Any) -> Result:
        try:
            response = request_json(method, url, payload, self.headers, self.timeout_s)
        except OSError as exc:
            return Result("retry", f"{type(exc).__name__}: {exc}")
        if response.ok:
            return DONE
        message = f"HTTP {response.status}: {response.text(300)}"
        if (
            response.status == 404
            or response.status in RETRYABLE_STATUSES
            or response.status >= 500
        ):
            return Result("retry", message)
        return Result("failed", message)


class PhoenixBridge(BridgeSpanExporter):
    """Export to Arize Phoenix: spans over OTLP/HTTP, assessments as native annotations.

    ::

        bridge = PhoenixBridge("http://127.0.0.1:6006", project="chatbot")
        otelfeedback.configure(exporters=[bridge])

    Args:
        url: Phoenix's base URL (its UI and REST API), e.g. ``http://127.0.0.1:6006``.
        project: the Phoenix project (sent as the ``x-project-name`` header); default: the
            ``openinference.project.name`` resource attribute, else Phoenix's ``default``.
        headers: sent with every request, OTLP and REST (e.g. ``authorization``).
        otlp_endpoint: the OTLP traces URL, when not ``{url}/v1/traces``.
        timeout_s: seconds per request.
        compression: ``"gzip"`` for the OTLP requests.
        retry_for_s: how long a write Phoenix cannot take yet (404) is retried.
        queue_size: assessment writes held at most.
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:6006",
        *,
        project: str | None = None,
        headers: Mapping[str, str] | None = None,
        otlp_endpoint: str | None = None,
        timeout_s: float = 10.0,
        compression: str | None = None,
        retry_for_s: float = 60.0,
        queue_size: int = 2048,
    ) -> None:
        base = url.rstrip("/")
        all_headers = {k.lower(): v for k, v in (headers or {}).items()}
        if project:
            all_headers[PROJECT_HEADER] = project
        project = project or all_headers.get(PROJECT_HEADER)
        otlp = OTLPHttpSpanExporter(
            otlp_endpoint or base + "/v1/traces", all_headers, timeout_s, compression
        )
        writer = PhoenixWriter(base, all_headers, project, timeout_s)
        super().__init__(otlp, writer, "phoenix", queue_size, retry_for_s)
