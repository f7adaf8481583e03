"""Put an assessment record on the wire (DESIGN.md section 4).

While the target span is still recording in this process, the record becomes an event on it.
Otherwise a small EVALUATOR *carrier span* is emitted in the target trace, parented to and
linked to the target span (readers use the link, never the parentage), with the OpenInference
annotation attributes, a ``gen_ai.evaluation.result`` event and our complete record.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, TraceFlags

from otelfeedback import semconv as sc
from otelfeedback.assessments.wire import (
    AssessmentRecord,
    annotation_attributes,
    evaluation_event_attributes,
    record_attributes,
)
from otelfeedback.tracing import _state

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def _event_name(record: AssessmentRecord) -> str:
    if evaluation_event_attributes(record) is not None:
        return sc.GEN_AI_EVALUATION_RESULT
    return sc.ASSESSMENT_CARRIER_SPAN_NAME


def emit(record: AssessmentRecord, target_span_id: str | None) -> str:
    """Emit ``record`` targeting ``target_span_id`` (a span of ``record.trace_id``; None when
    no span of the trace is known). Returns ``"event"`` or ``"carrier"``."""
    if target_span_id is not None:
        live = _state.get_live_span(target_span_id)
        if live is not None and live.is_recording():
            attributes = record_attributes(record)
            attributes.update(evaluation_event_attributes(record) or {})
            live.add_event(_event_name(record), attributes, timestamp=record.time_ns)
            return "event"
    _emit_carrier(record, target_span_id)
    return "carrier"


def _emit_carrier(record: AssessmentRecord, target_span_id: str | None) -> None:
    trace_id = int(record.trace_id, 16)
    links: list[Link] = []
    if target_span_id is not None:
        target = SpanContext(
            trace_id, int(target_span_id, 16), is_remote=True, trace_flags=_SAMPLED
        )
        links.append(Link(target, {"otelfeedback.link": "assessment.target"}))
        parent_id = int(target_span_id, 16)
    else:
        # No span of the trace is known (no store to look in): a parent id derived from the
        # trace id keeps the carrier inside the target trace; the record names the trace.
        parent_id = (trace_id & 0xFFFFFFFFFFFFFFFF) or 1
    parent = NonRecordingSpan(
        SpanContext(trace_id, parent_id, is_remote=True, trace_flags=_SAMPLED)
    )
    attributes: dict[str, Any] = {
        sc.OPENINFERENCE_SPAN_KIND: "EVALUATOR",
        sc.SPAN_TYPE: "EVALUATOR",
    }
    attributes.update(annotation_attributes(record))
    attributes.update(record_attributes(record))
    span = _state.get_tracer().start_span(
        sc.ASSESSMENT_CARRIER_SPAN_NAME,
        context=trace_api.set_span_in_context(parent),
        kind=trace_api.SpanKind.INTERNAL,
        attributes=attributes,
        links=links,
        start_time=record.time_ns,
    )
    evaluation = evaluation_event_attributes(record)
    if evaluation is not None:
        span.add_event(sc.GEN_AI_EVALUATION_RESULT, evaluation, timestamp=record.time_ns)
    span.end(end_time=record.time_ns)
