"""What the store returns: ``Trace`` = ``TraceInfo`` + ``Span`` list + assessments."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback._internal.otlp_json.decode import SpanEvent, SpanRecord
from otelfeedback.assessments.entities import Expectation, Feedback, assessment_from_dict

_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
_STATUS_CODES = {name: code for code, name in _STATUS.items()}
_OI_KIND_TO_TYPE = {
    "LLM": "LLM",
    "RETRIEVER": "RETRIEVER",
    "EMBEDDING": "EMBEDDING",
    "RERANKER": "RERANKER",
    "TOOL": "TOOL",
    "CHAIN": "CHAIN",
    "AGENT": "AGENT",
    "EVALUATOR": "EVALUATOR",
    "GUARDRAIL": "GUARDRAIL",
}


def span_type_of(attributes: dict[str, Any]) -> str:
    """Our span type, else the OpenInference kind, else a chat ``gen_ai`` call, else UNKNOWN."""
    ours = attributes.get(sc.SPAN_TYPE)
    if isinstance(ours, str) and ours:
        return ours.upper()
    kind = attributes.get(sc.OPENINFERENCE_SPAN_KIND)
    if isinstance(kind, str) and kind.upper() in _OI_KIND_TO_TYPE:
        return _OI_KIND_TO_TYPE[kind.upper()]
    operation = attributes.get(sc.GEN_AI_OPERATION_NAME)
    if operation in ("chat", "text_completion", "generate_content"):
        return "CHAT_MODEL" if operation == "chat" else "LLM"
    if operation == "embeddings":
        return "EMBEDDING"
    if operation == "execute_tool":
        return "TOOL"
    return "UNKNOWN"


def decode_content(value: Any, mime_type: Any) -> Any:
    """An ``input.value`` / ``output.value`` as data: parsed JSON when its mime type says so."""
    if isinstance(value, str) and mime_type == sc.MIME_JSON:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Span(SpanRecord):
    """A stored span: the one span record (``SpanRecord``: ids, parent, name, kind, times,
    attributes, events, links, status, resource, scope) with read helpers. ``inputs`` /
    ``outputs`` are decoded from ``input.value`` / ``output.value``; ``attributes`` holds
    every attribute as recorded."""

    @property
    def span_type(self) -> str:
        return span_type_of(self.attributes)

    @property
    def status(self) -> str:
        """``"UNSET"``, ``"OK"`` or ``"ERROR"``."""
        return _STATUS.get(self.status_code, "UNSET")

    @property
    def service_name(self) -> str | None:
        name = self.resource.get("service.name")
        return name if isinstance(name, str) else None

    @property
    def inputs(self) -> Any:
        return decode_content(
            self.attributes.get(sc.INPUT_VALUE), self.attributes.get(sc.INPUT_MIME_TYPE)
        )

    @property
    def outputs(self) -> Any:
        return decode_content(
            self.attributes.get(sc.OUTPUT_VALUE), self.attributes.get(sc.OUTPUT_MIME_TYPE)
        )

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_time_ns - self.start_time_ns) / 1e6

    @classmethod
    def from_row_data(cls, data: dict[str, Any]) -> Span:
        """From the index's ``data`` column (``store.rows.span_data``) merged with the
        row's ids, parent, name and times (``trace_id``, ``span_id``, ``parent_id``,
        ``name``, ``start_ns``, ``end_ns``)."""
        return cls(
            trace_id=data["trace_id"],
            span_id=data["span_id"],
            parent_id=data.get("parent_id"),
            name=data.get("name", ""),
            kind=data.get("kind", 1),
            start_time_ns=data.get("start_ns", 0),
            end_time_ns=data.get("end_ns", 0),
            attributes=data.get("attributes") or {},
            events=[SpanEvent(e[0], e[1], e[2]) for e in data.get("events") or []],
            links=[
                {"trace_id": li[0], "span_id": li[1], "attributes": li[2]}
                for li in data.get("links") or []
            ],
            status_code=data.get("status_code", 0),
            status_message=data.get("status_message", ""),
            resource=data.get("resource") or {},
            scope=data.get("scope") or {},
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        """Rebuild a span from ``to_dict()`` output."""
        service = data.get("service_name")
        return cls(
            trace_id=data["trace_id"],
            span_id=data["span_id"],
            parent_id=data.get("parent_id"),
            name=data["name"],
            kind=data.get("kind", 1),
            start_time_ns=data["start_time_ns"],
            end_time_ns=data["end_time_ns"],
            attributes=data.get("attributes", {}),
            events=[
                SpanEvent(e["name"], e["timestamp_ns"], e.get("attributes", {}))
                for e in data.get("events", [])
            ],
            links=data.get("links", []),
            status_code=_STATUS_CODES.get(data.get("status", "UNSET"), 0),
            status_message=data.get("status_message", ""),
            resource={"service.name": service} if service else {},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "span_type": self.span_type,
            "start_time_ns": self.start_time_ns,
            "end_time_ns": self.end_time_ns,
            "status": self.status,
            "status_message": self.status_message,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "attributes": self.attributes,
            "events": [
                {"name": e.name, "timestamp_ns": e.timestamp_ns, "attributes": e.attributes}
                for e in self.events
            ],
            "links": self.links,
            "kind": self.kind,
            "service_name": self.service_name,
        }


@dataclass
class TraceInfo:
    """A trace's summary: the row of the traces table."""

    trace_id: str
    name: str | None
    service_name: str | None
    root_span_id: str | None
    timestamp_ms: int
    execution_time_ms: float
    status: str
    request_preview: str | None
    response_preview: str | None
    tags: dict[str, str]
    metadata: dict[str, Any]
    session_id: str | None
    user_id: str | None
    input_tokens: int
    output_tokens: int
    span_count: int
    assessments: list[Feedback | Expectation] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "name": self.name,
            "service_name": self.service_name,
            "root_span_id": self.root_span_id,
            "timestamp_ms": self.timestamp_ms,
            "execution_time_ms": self.execution_time_ms,
            "status": self.status,
            "request_preview": self.request_preview,
            "response_preview": self.response_preview,
            "tags": dict(self.tags),
            "metadata": dict(self.metadata),
            "session_id": self.session_id,
            "user_id": self.user_id,
            "token_usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "total_tokens": self.total_tokens,
            },
            "span_count": self.span_count,
            "assessments": [a.to_dict() for a in self.assessments],
        }


@dataclass
class Trace:
    """A trace: its ``info``, its ``spans`` (start order) and its assessments (on ``info``)."""

    info: TraceInfo
    spans: list[Span] = field(default_factory=list)

    @property
    def trace_id(self) -> str:
        return self.info.trace_id

    @property
    def assessments(self) -> list[Feedback | Expectation]:
        """Every assessment, overridden ones included (``valid=False``)."""
        return self.info.assessments

    @property
    def root_span(self) -> Span | None:
        return next((s for s in self.spans if s.span_id == self.info.root_span_id), None)

    def search_assessments(
        self, name: str | None = None, *, kind: str | None = None, valid_only: bool = True
    ) -> list[Feedback | Expectation]:
        """Assessments by ``name`` / ``kind`` (``"feedback"``/``"expectation"``); only
        valid ones unless ``valid_only=False``."""
        return [
            a
            for a in self.info.assessments
            if (name is None or a.name == name)
            and (kind is None or a.kind == kind)
            and (a.valid or not valid_only)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"info": self.info.to_dict(), "spans": [s.to_dict() for s in self.spans]}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        """Rebuild a trace from ``to_dict()`` output."""
        info = dict(data["info"])
        usage = info.pop("token_usage", {}) or {}
        assessments = [assessment_from_dict(a) for a in info.pop("assessments", [])]
        trace_info = TraceInfo(
            **info,
            input_tokens=usage.get("input_tokens", 0),
            output_tokens=usage.get("output_tokens", 0),
            assessments=assessments,
        )
        spans = [Span.from_dict(s) for s in data.get("spans", [])]
        return cls(trace_info, spans)
