"""Put an assessment record on the wire (docs/assessments.md, "On the wire").

While the target span is still recording in this process, the record becomes an event on it.
Otherwise a small EVALUATOR *carrier span* carries it, with the OpenInference annotation
attributes, a ``gen_ai.evaluation.result`` event and our complete record. Where the carrier
goes is ``assessments.placement``'s rule: inside the target trace, parented and linked to the
target span, at a time within the target's (so it never changes the trace's duration or
shape), or, when nothing of the trace is known, as a trace of its own linked to the target.

Two ways out: ``emit`` starts the carrier with a tracer (the app's configuration, so the
record reaches every exporter, OTLP backends included); ``carrier_span`` builds the same
span as a finished SDK span for a store to append directly (``TraceStore.append_assessment``:
the server and the CLI write this way, without configuring the process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from otelfeedback import semconv as sc
from otelfeedback._internal.meta import package_version
from otelfeedback.assessments.placement import Target
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
    target: Target | None,
    tracer: trace_api.Tracer | None = None,
) -> int | None:
    """Emit ``record`` about ``target`` (None: nothing of the trace is known) with ``tracer``
    (default: the active configuration's). Returns the carrier span's id, or None when the
    record became an event of the target span, still recording (it is exported with that
    span)."""
    if target is not None and target.span_id is not None:
        live = _state.get_live_span(target.span_id)
        if live is not None and live.is_recording():
            attributes = record_attributes(record)
            attributes.update(evaluation_event_attributes(record) or {})
            live.add_event(_event_name(record), attributes, timestamp=record.time_ns)
            return None
    return _emit_carrier(record, target, tracer or _state.get_tracer())


def _carrier_parts(
    record: AssessmentRecord, target: Target | None
) -> tuple[SpanContext | None, dict[str, Any], list[Link], int]:
    """The carrier's parent (None: the root of a trace of its own), attributes, links and
    time (its start and end)."""
    trace_id = int(record.trace_id, 16)
    links: list[Link] = []
    parent = None
    time_ns = record.time_ns
    if target is not None and target.span_id is not None:
        target_context = SpanContext(
            trace_id, int(target.span_id, 16), is_remote=True, trace_flags=_SAMPLED
        )
        links.append(Link(target_context, {"otelfeedback.link": "assessment.target"}))
        if target.joins_trace:
            parent = target_context
            time_ns = target.carrier_time(record.time_ns)
    attributes: dict[str, Any] = {
        sc.OPENINFERENCE_SPAN_KIND: "EVALUATOR",
        sc.SPAN_TYPE: "EVALUATOR",
    }
    attributes.update(annotation_attributes(record))
    attributes.update(record_attributes(record))
    return parent, attributes, links, time_ns


def _emit_carrier(record: AssessmentRecord, target: Target | None, tracer: trace_api.Tracer) -> int:
    parent, attributes, links, time_ns = _carrier_parts(record, target)
    # A trace of its own starts from an empty context, not from whatever span is current.
    context = (
        trace_api.set_span_in_context(NonRecordingSpan(parent))
        if parent is not None
        else otel_context.Context()
    )
    span = tracer.start_span(
        sc.ASSESSMENT_CARRIER_SPAN_NAME,
        context=context,
        kind=trace_api.SpanKind.INTERNAL,
        attributes=attributes,
        links=links,
        start_time=time_ns,
    )
    evaluation = evaluation_event_attributes(record)
    if evaluation is not None:
        span.add_event(sc.GEN_AI_EVALUATION_RESULT, evaluation, timestamp=time_ns)
    span.end(end_time=time_ns)
    return int(span.get_span_context().span_id)


def carrier_span(
    record: AssessmentRecord, target: Target | None, resource: Resource
) -> ReadableSpan:
    """The carrier of ``record`` as a finished SDK span, for a store to append itself
    (the same span ``emit`` would start with a tracer)."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    ids = RandomIdGenerator()
    parent, attributes, links, time_ns = _carrier_parts(record, target)
    trace_id = parent.trace_id if parent is not None else ids.generate_trace_id()
    context = SpanContext(trace_id, ids.generate_span_id(), False, _SAMPLED)
    evaluation = evaluation_event_attributes(record)
    events = (
        [Event(sc.GEN_AI_EVALUATION_RESULT, evaluation, time_ns)] if evaluation is not None else []
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
        start_time=time_ns,
        end_time=time_ns,
        instrumentation_scope=InstrumentationScope("otelfeedback", package_version()),
    )
