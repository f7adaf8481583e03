"""The public assessment functions: log, override, update, delete, get.

Every argument is validated before anything is emitted. The target must be findable: with a
store configured, pending spans are flushed and the trace (and span) looked up, so
``log_feedback`` right after the traced call works and an unknown trace raises
``NotFoundError`` instead of writing a dangling record. Records then go on the wire
(``assessments.emit``): an event on a still-recording target span, else a carrier span,
through the app's configuration so they reach every exporter. With a local file store, a
carrier is written before the function returns, or ``StoreWriteError`` says why it could
not be (a full disk, a read-only store); OTLP destinations count their failures instead.

``writing_to(store)`` runs these functions against one store instead (reads and writes;
records appended by ``store.append_assessment``): that is how the server and the CLI
write, without configuring the process. It is scoped to the current thread or task.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from otelfeedback.api._store import active_store, ensure_stored, flush_store
from otelfeedback.assessments import emit as _emit
from otelfeedback.assessments import validation as v
from otelfeedback.assessments.entities import (
    AssessmentError,
    AssessmentSource,
    Expectation,
    Feedback,
    assessment_from_dict,
)
from otelfeedback.assessments.placement import (
    Target,
    ended_target,
    running_target,
    span_target,
)
from otelfeedback.assessments.wire import AssessmentRecord, Operation
from otelfeedback.errors import ConfigurationError, InvalidArgumentError, NotFoundError
from otelfeedback.semconv import AssessmentSourceType
from otelfeedback.store.base import TraceStore
from otelfeedback.tracing import _state

_UNSET: Any = object()
A = TypeVar("A", Feedback, Expectation)

#: The store of ``writing_to`` and the writer's service name, for this thread or task.
_scope: ContextVar[tuple[TraceStore, str] | None] = ContextVar(
    "otelfeedback_assessment_store", default=None
)


@contextmanager
def writing_to(store: TraceStore, *, service_name: str = "otelfeedback") -> Iterator[None]:
    """Within the block (this thread or task only), the assessment functions read from and
    append to ``store`` directly, not through the process's configuration.

    Example::

        with writing_to(FileStore("./team-store"), service_name="review-bot"):
            log_feedback(trace_id, "accuracy", 0.9)
    """
    token = _scope.set((store, service_name))
    try:
        yield
    finally:
        _scope.reset(token)


def _store(*, required: bool = False) -> TraceStore | None:
    scoped = _scope.get()
    return scoped[0] if scoped is not None else active_store(required=required)


def _flush() -> None:
    if _scope.get() is None:
        flush_store()


def _in_process_target(trace_id: str, span_id: str) -> Target:
    """A span taken as given (no store to check it in): the carrier may join the trace only
    if this process traced it (running: any time from now; ended: at the local root's end)."""
    root = _state.find_local_root(trace_id)
    if root is not None and _state.get_live_span(root) is not None:
        return running_target(span_id, time.time_ns())
    end = _state.local_root_end(trace_id)
    return ended_target(span_id, end) if end is not None else Target(span_id)


def _stored_target(store: TraceStore, trace_id: str, span_id: str | None) -> Target | None:
    """The target span as the store has it (with its time range), or None."""
    try:
        trace = store.get_trace(trace_id)
    except NotFoundError:
        return None
    if span_id is None:
        span = trace.root_span
    else:
        span = next((s for s in trace.spans if s.span_id == span_id), None)
    if span is None:
        return None
    return span_target(span.span_id, span.start_time_ns, span.end_time_ns)


def _resolve_target(trace_id: str, span_id: str | None) -> Target | None:
    """What the record is about: ``span_id`` or the trace's root span, with the time its
    carrier may occupy (``assessments.placement``); None when nothing of the trace is known.
    Raises ``NotFoundError`` when a store is configured and does not have the trace (or
    span), after a flush."""
    scoped = _scope.get() is not None
    if not scoped:
        if span_id is not None and _state.get_live_span(span_id) is not None:
            return Target(span_id)  # still recording: the record becomes an event on it
        if span_id is None:
            root = _state.find_local_root(trace_id)  # traced here: no lookup
            if root is not None and _state.get_live_span(root) is not None:
                return Target(root)
            end = _state.local_root_end(trace_id)
            if root is not None and end is not None:
                return ended_target(root, end)
    store = _store()
    if store is None:
        if span_id is None:
            return None
        return Target(span_id) if scoped else _in_process_target(trace_id, span_id)
    for attempt in range(2):
        if attempt:
            _flush()
        found = _stored_target(store, trace_id, span_id)
        if found is not None:
            return found
    if span_id is not None and store.find_root_span_id(trace_id) is not None:
        raise NotFoundError(f"span {span_id!r} not found in trace {trace_id!r}")
    raise NotFoundError(f"trace {trace_id!r} not found in the store at {store.path}")


def _emit_record(operation: Operation, fields: dict[str, Any], target: Target | None) -> None:
    record = AssessmentRecord(operation, fields, time.time_ns())
    scoped = _scope.get()
    if scoped is None:
        carrier = _emit.emit(record, target)
        if carrier is not None:
            ensure_stored(carrier)
    else:
        store, service_name = scoped
        store.append_assessment(record, target, service_name=service_name)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _new_id() -> str:
    return "a-" + uuid.uuid4().hex


def _fields(assessment: Feedback | Expectation) -> dict[str, Any]:
    fields = assessment.to_record_fields()
    fields["metadata"] = dict(fields["metadata"] or {})
    return fields


def log_feedback(
    trace_id: str,
    name: str = "feedback",
    value: Any = None,
    rationale: str | None = None,
    source: AssessmentSource | None = None,
    span_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    error: AssessmentError | BaseException | str | None = None,
) -> Feedback:
    """Record feedback (a judgement: thumbs, score, label, ...) on a trace or one of its spans.

    Example::

        log_feedback(trace_id, "user_feedback", False, rationale="Missing details",
                     source=AssessmentSource(AssessmentSourceType.HUMAN, "enduser_123"))

    Args:
        trace_id: the trace (32 hex).
        name: what is judged (``"user_feedback"``), at most 250 characters.
        value: bool, number, string, or a list/dict of those. Required unless ``error``.
        rationale: why.
        source: who; default ``CODE`` / ``"default"``.
        span_id: a span of the trace (16 hex); default the whole trace (its root span).
        metadata: JSON-representable extra data.
        error: the evaluator failed: an ``AssessmentError``, an exception or a message.

    Returns:
        The ``Feedback``, with its ``assessment_id``.

    Raises:
        InvalidArgumentError: an argument is malformed (nothing is recorded).
        NotFoundError: a store is configured and has no such trace / span.
    """
    trace_id = v.check_trace_id(trace_id)
    span_id = v.check_span_id(span_id)
    feedback = Feedback(
        name=v.check_name(name),
        value=v.check_value(value),
        rationale=v.check_rationale(rationale),
        source=v.check_source(source, AssessmentSourceType.CODE),
        metadata=v.check_metadata(metadata),
        error=v.check_error(error),
        trace_id=trace_id,
        span_id=span_id,
    )
    if feedback.value is None and feedback.error is None:
        raise InvalidArgumentError("value", "a feedback needs a value (or an error); got None")
    return _create(feedback)


def log_expectation(
    trace_id: str,
    name: str,
    value: Any,
    source: AssessmentSource | None = None,
    span_id: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Expectation:
    """Record an expectation (ground truth: what the app should have produced).

    Args are as for ``log_feedback``; ``value`` must not be None and ``source`` defaults to
    ``HUMAN`` / ``"default"``.

    Raises:
        InvalidArgumentError: an argument is malformed (nothing is recorded).
        NotFoundError: a store is configured and has no such trace / span.
    """
    trace_id = v.check_trace_id(trace_id)
    span_id = v.check_span_id(span_id)
    expectation = Expectation(
        name=v.check_name(name),
        value=v.check_value(value),
        source=v.check_source(source, AssessmentSourceType.HUMAN),
        metadata=v.check_metadata(metadata),
        trace_id=trace_id,
        span_id=span_id,
    )
    if expectation.value is None:
        raise InvalidArgumentError("value", "an expectation needs a value; got None")
    return _create(expectation)


def _create(assessment: A, target: Target | None = _UNSET) -> A:
    assert assessment.trace_id is not None
    if target is _UNSET:
        target = _resolve_target(assessment.trace_id, assessment.span_id)
    assessment.assessment_id = _new_id()
    assessment.create_time_ms = assessment.last_update_time_ms = _now_ms()
    _emit_record("create", _fields(assessment), target)
    return assessment


def _read(trace_id: str, assessment_id: str) -> Feedback | Expectation:
    store = _store()
    if store is None:
        raise ConfigurationError(
            "reading an assessment needs a store: call otelfeedback.configure(store=DIRECTORY)"
        )
    _flush()
    return store.get_assessment(trace_id, assessment_id)


def get_assessment(trace_id: str, assessment_id: str) -> Feedback | Expectation:
    """The current state of one assessment.

    Raises:
        InvalidArgumentError: malformed ids.
        NotFoundError: no such assessment on that trace.
    """
    return _read(v.check_trace_id(trace_id), v.check_assessment_id(assessment_id))


def override_feedback(
    trace_id: str,
    assessment_id: str,
    value: Any,
    rationale: str | None = None,
    source: AssessmentSource | None = None,
    metadata: dict[str, Any] | None = None,
) -> Feedback:
    """Replace a feedback with a corrected one, keeping history: the old one stays, marked
    ``valid=False``, and the new one's ``overrides`` names it. Same name and span.

    ``source`` defaults to ``HUMAN`` / ``"default"`` (a person corrects a judgement).

    Raises:
        InvalidArgumentError: malformed arguments, or the assessment is an expectation.
        NotFoundError: no such assessment on that trace.
    """
    trace_id = v.check_trace_id(trace_id)
    assessment_id = v.check_assessment_id(assessment_id)
    value = v.check_value(value)
    if value is None:
        raise InvalidArgumentError("value", "an override needs a value; got None")
    new = Feedback(
        value=value,
        rationale=v.check_rationale(rationale),
        source=v.check_source(source, AssessmentSourceType.HUMAN),
        metadata=v.check_metadata(metadata),
        trace_id=trace_id,
    )
    old = _read(trace_id, assessment_id)
    if not isinstance(old, Feedback):
        raise InvalidArgumentError(
            "assessment_id", f"{assessment_id} is an expectation; only feedback can be overridden"
        )
    new.name, new.span_id, new.overrides = old.name, old.span_id, assessment_id
    result: Feedback = _create(new, target=_resolve_target(trace_id, old.span_id))
    return result


def update_assessment(
    trace_id: str,
    assessment_id: str,
    assessment: Feedback | Expectation | None = None,
    *,
    name: str | None = None,
    value: Any = _UNSET,
    rationale: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Feedback | Expectation:
    """Edit an assessment in place (no history; use ``override_feedback`` to keep it).

    Give either ``assessment`` (a ``Feedback``/``Expectation`` whose name, value, rationale
    and metadata are taken) or the keyword fields. ``rationale=None`` keeps the old one;
    ``metadata`` merges into the old (new keys win). Source, span and times are kept.

    Raises:
        InvalidArgumentError: malformed arguments, or a kind mismatch.
        NotFoundError: no such assessment on that trace.
    """
    trace_id = v.check_trace_id(trace_id)
    assessment_id = v.check_assessment_id(assessment_id)
    if assessment is not None:
        if not isinstance(assessment, (Feedback, Expectation)):
            raise InvalidArgumentError(
                "assessment", f"expected a Feedback or Expectation, got {type(assessment).__name__}"
            )
        name, value = assessment.name, assessment.value
        rationale = assessment.rationale
        metadata = assessment.metadata
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = v.check_name(name)
    if value is not _UNSET:
        changes["value"] = v.check_value(value)
    if rationale is not None:
        changes["rationale"] = v.check_rationale(rationale)
    extra_metadata = v.check_metadata(metadata)
    old = _read(trace_id, assessment_id)
    if assessment is not None and assessment.kind != old.kind:
        raise InvalidArgumentError(
            "assessment",
            f"{assessment_id} is a {old.kind}; cannot update it with a {assessment.kind}",
        )
    if old.kind == "expectation" and changes.get("value", 0) is None:
        raise InvalidArgumentError("value", "an expectation needs a value; got None")
    if "rationale" in changes and old.kind == "expectation":
        raise InvalidArgumentError("rationale", "an expectation has no rationale")
    data = old.to_dict()
    data.update(changes)
    data["metadata"] = {**(old.metadata or {}), **extra_metadata}
    data["last_update_time_ms"] = _now_ms()
    updated = assessment_from_dict(data)
    _emit_record("update", _fields(updated), _resolve_target(trace_id, old.span_id))
    return updated


def delete_assessment(trace_id: str, assessment_id: str) -> None:
    """Delete an assessment. Deleting an override makes the one it replaced valid again.
    Idempotent: an unknown id is a no-op.

    Raises:
        InvalidArgumentError: malformed ids.
    """
    trace_id = v.check_trace_id(trace_id)
    assessment_id = v.check_assessment_id(assessment_id)
    store = _store()
    target = None
    if store is not None:
        try:
            old = _read(trace_id, assessment_id)
        except NotFoundError:
            return
        target = _resolve_target(trace_id, old.span_id)
    fields = {
        "assessment_id": assessment_id,
        "trace_id": trace_id,
        "last_update_time_ms": _now_ms(),
    }
    _emit_record("delete", fields, target)
