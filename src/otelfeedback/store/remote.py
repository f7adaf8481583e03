"""The remote store: an ``otelfeedback server`` reached over its JSON API.

Implements the ``TraceStore`` reads (``get_trace``, ``search_traces``, ``get_assessment``,
``find_root_span_id``, ``has_span``), the assessment writes (``log_assessment``,
``update_assessment``, ``override_feedback``, ``delete_assessment``) and the records store
(``append_records``, ``get_record``, ``list_records``, ``record_history``) with the standard
library's HTTP client, so remote mode needs no extra. Server errors come back as the same
exceptions the local store raises (``InvalidArgumentError``, ``FilterSyntaxError``,
``NotFoundError``). Spans themselves travel over OTLP to the server's ``/v1/traces``.

>>> store = RemoteStore("http://127.0.0.1:5050")               # doctest: +SKIP
>>> store.search_traces("feedback.user_feedback = 'false'")     # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from otelfeedback.assessments.entities import (
    AssessmentError,
    AssessmentSource,
    Expectation,
    Feedback,
    assessment_from_dict,
)
from otelfeedback.assessments.placement import Target
from otelfeedback.assessments.wire import AssessmentRecord
from otelfeedback.errors import (
    ConfigurationError,
    ConflictError,
    FilterSyntaxError,
    InvalidArgumentError,
    NotFoundError,
    OtelFeedbackError,
)
from otelfeedback.store import record_checks
from otelfeedback.store.base import WRITER_SERVICE_NAME
from otelfeedback.store.carriers import carrier_line
from otelfeedback.store.entities import Trace
from otelfeedback.store.paging import PagedList
from otelfeedback.store.records import Record, RecordMethods, RecordWrite

_PAGE = 1000  # the server's largest page
_RECORD_PAGE = 5000  # the server's largest page of records


def is_remote_url(store: object) -> bool:
    """Whether a ``store`` setting names a server (``http://`` or ``https://``)."""
    return isinstance(store, str) and store.lower().startswith(("http://", "https://"))


def _filter_error(filter_string: str, message: str) -> FilterSyntaxError:
    match = re.search(r"at position (\d+)", message)
    error = FilterSyntaxError.__new__(FilterSyntaxError)
    Exception.__init__(error, message)
    error.filter_string = filter_string
    error.position = int(match.group(1)) if match else 0
    return error


class RemoteStore(RecordMethods):
    """A ``TraceStore`` over HTTP. Thread-safe (each call is its own request)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        if not is_remote_url(url):
            raise ConfigurationError(f"store={url!r}: expected an http:// or https:// URL")
        self.url = url.rstrip("/")
        self.path = self.url  # for messages, like FileStore.path
        self.token = token
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r})"

    # -- HTTP -------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        raw_json: bytes | None = None,
    ) -> Any:
        url = self.url + path
        if query:
            pairs = [
                (k, str(item))
                for k, v in query.items()
                if v is not None
                for item in (v if isinstance(v, list) else [v])
            ]
            url += "?" + urlencode(pairs)
        headers = {"Accept": "application/json"}
        data = raw_json
        if body is not None:
            data = json.dumps(body).encode("utf-8")
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            self._raise(exc, query)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OtelFeedbackError(
                f"cannot reach the otelfeedback server at {self.url}: {reason}"
            ) from None
        return json.loads(raw) if raw else None

    def _raise(self, exc: urllib.error.HTTPError, query: dict[str, Any] | None) -> Any:
        try:
            error = json.loads(exc.read()).get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        message = str(error.get("message") or exc.reason)
        if exc.code == 409 and error.get("code") == "CONFLICT":
            raise ConflictError(
                str(error.get("kind")),
                str(error.get("record_id")),
                int(error.get("expected_version") or 0),
                int(error.get("actual_version") or 0),
            ) from None
        if exc.code == 413:
            raise InvalidArgumentError("records", message) from None
        if exc.code == 404:
            raise NotFoundError(message) from None
        if exc.code == 401:
            raise ConfigurationError(
                f"the server at {self.url} wants a token: set OTELFEEDBACK_SERVER_TOKEN"
            ) from None
        if error.get("code") == "INVALID_FILTER":
            raise _filter_error(str((query or {}).get("filter") or ""), message) from None
        if exc.code == 400:
            argument = str(error.get("argument") or "request")
            prefix = f"{argument}: "
            text = message[len(prefix) :] if message.startswith(prefix) else message
            raise InvalidArgumentError(argument, text) from None
        raise OtelFeedbackError(f"server error {exc.code} from {self.url}: {message}") from None

    def _trace_path(self, trace_id: str) -> str:
        return f"/api/traces/{quote(trace_id, safe='')}"

    # -- reads ----------------------------------------------------------------------------
    def _assessment_path(self, trace_id: str, assessment_id: str) -> str:
        return f"{self._trace_path(trace_id)}/assessments/{quote(assessment_id, safe='')}"

    def get_trace(self, trace_id: str) -> Trace:
        return Trace.from_dict(self._call("GET", self._trace_path(trace_id)))

    def search_traces(
        self,
        filter_string: str | None = None,
        max_results: int | None = 100,
        order_by: list[str] | str | None = None,
        page_token: str | None = None,
        run_id: str | None = None,
        include_spans: bool = True,
    ) -> PagedList[Trace]:
        if max_results is not None and (
            isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1
        ):
            raise InvalidArgumentError(
                "max_results", f"expected a positive int or None, got {max_results!r}"
            )
        orders = [order_by] if isinstance(order_by, str) else list(order_by or [])
        traces: list[Trace] = []
        token = page_token
        while True:
            want = _PAGE if max_results is None else min(_PAGE, max_results - len(traces))
            data = self._call(
                "GET",
                "/api/traces",
                query={
                    "filter": filter_string,
                    "max_results": want,
                    "order_by": orders,
                    "page_token": token,
                    "run_id": run_id,
                    "include_spans": "true" if include_spans else "false",
                },
            )
            traces += [Trace.from_dict({"spans": [], **t}) for t in data["traces"]]
            token = data.get("next_page_token")
            if token is None or (max_results is not None and len(traces) >= max_results):
                return PagedList(traces, token)

    def get_assessment(self, trace_id: str, assessment_id: str) -> Feedback | Expectation:
        path = self._assessment_path(trace_id, assessment_id)
        return assessment_from_dict(self._call("GET", path))

    def find_root_span_id(self, trace_id: str) -> str | None:
        try:
            data = self._call("GET", self._trace_path(trace_id))
        except NotFoundError:
            return None
        root = data["info"].get("root_span_id")
        return None if root is None else str(root)

    def assessment_names(self) -> list[tuple[str, str]]:
        data = self._call("GET", "/api/assessment-names")
        return [(kind, name) for kind in ("feedback", "expectation") for name in data[kind]]

    def has_span(self, trace_id: str, span_id: str) -> bool:
        try:
            self._call("GET", f"{self._trace_path(trace_id)}/spans/{quote(span_id, safe='')}")
        except NotFoundError:
            return False
        return True

    # -- writes -----------------------------------------------------------------------------
    def existing_trace_ids(self, trace_ids: Sequence[str]) -> set[str]:
        """Which of these trace ids the server has: one search per 200 ids (a filter that
        fits in a URL), without spans."""
        found: set[str] = set()
        ids = list(trace_ids)
        for start in range(0, len(ids), 200):
            quoted = ", ".join(f"'{trace_id}'" for trace_id in ids[start : start + 200])
            page = self.search_traces(
                f"trace.trace_id IN ({quoted})", None, None, None, None, False
            )
            found.update(t.info.trace_id for t in page)
        return found

    def append_assessment(
        self,
        record: AssessmentRecord,
        target: Target | None,
        *,
        service_name: str = WRITER_SERVICE_NAME,
    ) -> None:
        """One POST of ``record``'s carrier span (OTLP/JSON) to the server's ``/v1/traces``;
        the server answers once it is in its store (see ``TraceStore``)."""
        self._call("POST", "/v1/traces", raw_json=carrier_line(record, target, service_name))

    def log_assessment(
        self,
        trace_id: str,
        kind: str,
        name: str | None,
        value: Any,
        *,
        rationale: str | None = None,
        source: AssessmentSource | None = None,
        span_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        error: AssessmentError | None = None,
    ) -> Feedback | Expectation:
        """Create a feedback or expectation (``kind``); the server validates and stores it."""
        body: dict[str, Any] = {"kind": kind, "value": value}
        optional = {
            "name": name,
            "rationale": rationale,
            "source": source.to_dict() if source is not None else None,
            "span_id": span_id,
            "metadata": metadata,
            "error": error.to_dict() if error is not None else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        data = self._call("POST", f"{self._trace_path(trace_id)}/assessments", body)
        return assessment_from_dict(data)

    def update_assessment(
        self, trace_id: str, assessment_id: str, **changes: Any
    ) -> Feedback | Expectation:
        """Edit in place: ``name``, ``value``, ``rationale``, ``metadata`` (merged)."""
        path = self._assessment_path(trace_id, assessment_id)
        return assessment_from_dict(self._call("PATCH", path, changes))

    def override_feedback(
        self,
        trace_id: str,
        assessment_id: str,
        value: Any,
        rationale: str | None = None,
        source: AssessmentSource | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Feedback:
        path = self._assessment_path(trace_id, assessment_id)
        body: dict[str, Any] = {"value": value}
        if rationale is not None:
            body["rationale"] = rationale
        if source is not None:
            body["source"] = source.to_dict()
        if metadata is not None:
            body["metadata"] = metadata
        result = assessment_from_dict(self._call("POST", path + "/override", body))
        assert isinstance(result, Feedback)
        return result

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        path = self._assessment_path(trace_id, assessment_id)
        self._call("DELETE", path)

    # -- records --------------------------------------------------------------------------
    def append_records(
        self, writes: Sequence[RecordWrite], *, author: str | None = None
    ) -> list[Record]:
        """Append one atomic batch through ``POST /api/records`` (checked here first, so bad
        input fails before the request; see ``FileStore.append_records``)."""
        batch = record_checks.check_writes(writes)
        body: dict[str, Any] = {"records": [w.to_dict() for w in batch]}
        if record_checks.check_author(author) is not None:
            body["author"] = author
        data = self._call("POST", "/api/records", body)
        return [Record.from_dict(item) for item in data["records"]]

    def _record_path(self, kind: str, record_id: str) -> str:
        return f"/api/records/{record_checks.check_kind(kind)}/{record_checks.check_id(record_id)}"

    def get_record(self, kind: str, record_id: str, version: int | None = None) -> Record:
        path = self._record_path(kind, record_id)
        return Record.from_dict(self._call("GET", path, query={"version": version}))

    def list_records(
        self,
        kind: str,
        *,
        parent: str | None = None,
        as_of: int | None = None,
        include_deleted: bool = False,
        changed_after: int | None = None,
    ) -> list[Record]:
        """Every page of ``GET /api/records/{kind}``, all as of the first page's sequence."""
        path = f"/api/records/{record_checks.check_kind(kind)}"
        if parent is not None:
            record_checks.check_id(parent, "parent")
        found: list[Record] = []
        token = None
        while True:
            data = self._call(
                "GET",
                path,
                query={
                    "parent": parent,
                    "as_of": as_of,
                    "include_deleted": "true" if include_deleted else None,
                    "changed_after": changed_after,
                    "limit": _RECORD_PAGE,
                    "page_token": token,
                },
            )
            found += [Record.from_dict(item) for item in data["records"]]
            token = data.get("next_page_token")
            if not token:
                return found

    def record_history(self, kind: str, record_id: str) -> list[Record]:
        data = self._call("GET", self._record_path(kind, record_id) + "/history")
        return [Record.from_dict(item) for item in data["records"]]

    def close(self) -> None:
        """Nothing to release (kept for symmetry with ``FileStore``)."""
