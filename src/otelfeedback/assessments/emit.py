"""Put an assessment record on the wire (docs/assessments.md, "On the wire").

While the target span is still recording in this process, the record becomes an event on it.
Otherwise a small EVALUATOR *carrier span* is emitted in the target trace, parented to and
linked to the target span (readers use the link, never the parentage), with the OpenInference
annotation attributes, a ``gen_ai.evaluation.result`` event and our complete record.

Two ways out: ``emit`` starts the carrier with a tracer (the app's configuration, so the
record reaches every exporter, OTLP backends included); ``carrier_span`` builds the same
span as a finished SDK span for a store to append directly (``TraceStore.append_assessment``:
the server and the CLI write this way, without configuring the process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry import trace as trace_api
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from otelfeedback import semconv as sc
from otelfeedback._internal.meta import package_version
from otelfeedback.assessments.wire import (
    AssessmentRecord,
    annotation_attributes,
    evaluation_event_attributes,
    record_attributes,
)
from otelfeedback.tracing import _state

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def _event_name(record: AssessmentRecord) -> str:
    if evaluation_event_attributes(record) is not None:
        return sc.GEN_AI_EVALUATION_RESULT
    return sc.ASSESSMENT_CARRIER_SPAN_NAME


def emit(
    record: AssessmentRecord,
    target_span_id: str | None,
    tracer: trace_api.Tracer | None = None,
) -> str:
    """Emit ``record`` targeting ``target_span_id`` (a span of ``record.trace_id``; None when
    no span of the trace is known) with ``tracer`` (default: the active configuration's).
    Returns ``"event"`` or ``"carrier"``."""
    if target_span_id is not None:
        live = _state.get_live_span(target_span_id)
        if live is not None and live.is_recording():
            attributes = record_attributes(record)
            attributes.update(evaluation_event_attributes(record) or {})
            live.add_event(_event_name(record), attributes, timestamp=record.time_ns)
            return "event"
    _emit_carrier(record, target_span_id, tracer or _state.get_tracer())
    return "carrier"


def _carrier_parts(
    record: AssessmentRecord, target_span_id: str | None
) -> tuple[SpanContext, dict[str, Any], list[Link]]:
    """The carrier's parent, attributes and links."""
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
    parent = SpanContext(trace_id, parent_id, is_remote=True, trace_flags=_SAMPLED)
    attributes: dict[str, Any] = {
        sc.OPENINFERENCE_SPAN_KIND: "EVALUATOR",
        sc.SPAN_TYPE: "EVALUATOR",
    }
    attributes.update(annotation_attributes(record))
    attributes.update(record_attributes(record))
    return parent, attributes, links


def _emit_carrier(
    record: AssessmentRecord, target_span_id: str | None, tracer: trace_api.Tracer
) -> None:
    parent, attributes, links = _carrier_parts(record, target_span_id)
    span = tracer.start_span(
        sc.ASSESSMENT_CARRIER_SPAN_NAME,
        context=trace_api.set_span_in_context(NonRecordingSpan(parent)),
        kind=trace_api.SpanKind.INTERNAL,
        attributes=attributes,
        links=links,
        start_time=record.time_ns,
    )
    evaluation = evaluation_event_attributes(record)
    if evaluation is not None:
        span.add_event(sc.GEN_AI_EVALUATION_RESULT, evaluation, timestamp=record.time_ns)
    span.end(end_time=record.time_ns)


def carrier_span(
    record: AssessmentRecord, target_span_id: str | None, resource: Resource
) -> ReadableSpan:
    """The carrier of ``record`` as a finished SDK span, for a store to append itself
    (the same span ``emit`` would start with a tracer)."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    parent, attributes, links = _carrier_parts(record, target_span_id)
    context = SpanContext(parent.trace_id, RandomIdGenerator().generate_span_id(), False, _SAMPLED)
    evaluation = evaluation_event_attributes(record)
    events = (
        [Event(sc.GEN_AI_EVALUATION_RESULT, evaluation, record.time_ns)]
        if evaluation is not None
        else []
    )
    return ReadableSpan(
        sc.ASSESSMENT_CARRIER_SPAN_NAME,
        context=context,
        parent=parent,
        resource=resource,
        attributes=attributes,
        events=events,
        links=links,
        kind=trace_api.SpanKind.INTERNAL,
        status=Status(StatusCode.UNSET),
        start_time=record.time_ns,
        end_time=record.time_ns,
        instrumentation_scope=InstrumentationScope("otelfeedback", package_version()),
    )
