"""``LiveSpan`` and ``start_span``: a span with typed inputs, outputs and span type.

The start/end helpers here are shared by ``start_span`` and the ``@trace`` decorator so
both produce identical spans.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api
from opentelemetry.trace import Status, StatusCode

from otelfeedback import semconv
from otelfeedback._internal.serialization import to_json, truncate
from otelfeedback.semconv import SpanType
from otelfeedback.tracing import _state
from otelfeedback.tracing.context import context_attributes, with_local_root
from otelfeedback.tracing.sdk_attributes import add_attributes, start_sdk_span

_PRIMITIVES = (str, bool, int, float)


def type_attributes(span_type: SpanType) -> dict[str, str]:
    """The attributes that declare a span's type to every backend."""
    return {
        semconv.OPENINFERENCE_SPAN_KIND: semconv.OPENINFERENCE_KIND[span_type],
        semconv.SPAN_TYPE: span_type.value,
    }


def encode_value(value: Any, max_length: int) -> tuple[str, str, bool]:
    """``(text, mime_type, truncated)`` for an input or output value."""
    if isinstance(value, str):
        text, mime = value, semconv.MIME_TEXT
    else:
        text, mime = to_json(value), semconv.MIME_JSON
    text, cut = truncate(text, max_length)
    return text, (semconv.MIME_TEXT if cut else mime), cut


def attribute_value(value: Any) -> Any:
    """An OTel-valid attribute value: primitives and homogeneous primitive lists as they are,
    anything else as JSON."""
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, (list, tuple)) and value:
        first = type(value[0])
        if first in _PRIMITIVES and all(type(v) is first for v in value):
            return list(value)
    return to_json(value)


_IO_KEYS = {
    "input": (semconv.INPUT_VALUE, semconv.INPUT_MIME_TYPE),
    "output": (semconv.OUTPUT_VALUE, semconv.OUTPUT_MIME_TYPE),
}


def io_attributes(which: str, value: Any, state: _state.TracingState) -> dict[str, Any]:
    """The ``input.*`` (``which="input"``) or ``output.*`` attributes for ``value``."""
    text, mime, cut = encode_value(value, state.max_value_length)
    value_key, mime_key = _IO_KEYS[which]
    attrs: dict[str, Any] = {value_key: text, mime_key: mime}
    if cut:
        attrs[semconv.TRUNCATED] = [value_key]
    return attrs


def set_io(span: trace_api.Span, which: str, value: Any, state: _state.TracingState) -> None:
    """Set ``input.*`` (``which="input"``) or ``output.*`` on ``span``."""
    add_attributes(span, io_attributes(which, value, state))


def begin(
    state: _state.TracingState,
    name: str,
    attributes: Mapping[str, Any],
    attach: bool = True,
    later: Mapping[str, Any] | None = None,
    *,
    kind: trace_api.SpanKind = trace_api.SpanKind.INTERNAL,
    parent: otel_context.Context | None = None,
) -> tuple[trace_api.Span, object | None, otel_context.Context]:
    """Start a span of ours as a child of ``parent`` (default: the current context), known
    as live (``_state._live_spans``) and as its trace's local root when it is the first of
    ours there; make it current when ``attach``. Used by ``@trace``, ``start_span`` and the
    OpenAI instrumentation (a ``CLIENT`` span, made current around the request only).

    ``attributes`` (the span type, the decorator's own; an OpenAI call's operation,
    provider, model and server) and the session/user/tags in force are given at the start,
    where a sampler sees them; ``later`` (built by us, valid by construction: the inputs, a
    span type) are added right after with ``add_attributes``
    (``sdk_attributes.start_sdk_span``).

    Returns the span, the token to detach with (``None`` when not attached) and the
    context in which the span is current.
    """
    if parent is None:
        parent = otel_context.get_current()
    extra = context_attributes(parent)
    attrs = {**extra, **attributes} if extra else attributes
    span = start_sdk_span(
        state.tracer, name, parent, attrs, later, kind=kind, quiet=state.quiet_start
    )
    span_context = span.get_span_context()
    ctx = with_local_root(
        trace_api.set_span_in_context(span, parent),
        span,
        span_context.trace_id,
        span_context.span_id,
    )
    token = otel_context.attach(ctx) if attach else None
    _state._live_spans[span_context.span_id] = span
    return span, token, ctx


def finish(span: trace_api.Span, token: object | None) -> None:
    """Detach (when ``token`` is given) and end ``span``."""
    if token is not None:
        otel_context.detach(token)  # type: ignore[arg-type]
    span_context = span.get_span_context()
    span.end(end_time=_state.span_ending(span_context.trace_id, span_context.span_id))
    _state._last_trace_id.set(span_context.trace_id)


_OK = Status(StatusCode.OK)


def mark_ok(span: trace_api.Span, state: _state.TracingState) -> None:
    """Set status OK on a span that ends without an exception, unless ``status_ok`` is off
    or the code already set a status (an ERROR recorded without raising stays ERROR)."""
    if not state.status_ok:
        return
    status = getattr(span, "status", None)
    if status is not None and status.status_code is StatusCode.UNSET:
        span.set_status(_OK)


def record_error(span: trace_api.Span, exc: BaseException) -> None:
    """Record ``exc`` on ``span`` as an exception event and ERROR status."""
    span.record_exception(
        exc,
        attributes={
            "exception.stacktrace": "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__)
            )
        },
        escaped=True,
    )
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


class LiveSpan:
    """A recording span with otelfeedback's typed setters.

    >>> with start_span("retrieve", span_type="RETRIEVER") as span:
    ...     span.set_outputs(["doc 1", "doc 2"])
    """

    __slots__ = ("_state", "otel_span")

    def __init__(self, otel_span: trace_api.Span, state: _state.TracingState) -> None:
        self.otel_span = otel_span
        self._state = state

    @property
    def trace_id(self) -> str:
        """The trace id, 32 lowercase hex characters."""
        return format(self.otel_span.get_span_context().trace_id, "032x")

    @property
    def span_id(self) -> str:
        """The span id, 16 lowercase hex characters."""
        return format(self.otel_span.get_span_context().span_id, "016x")

    def set_inputs(self, inputs: Any) -> None:
        """Record the span's inputs (any value; JSON-encoded unless a string)."""
        if self._state.capture_content:
            set_io(self.otel_span, "input", inputs, self._state)

    def set_outputs(self, outputs: Any) -> None:
        """Record the span's outputs (any value; JSON-encoded unless a string)."""
        if self._state.capture_content:
            set_io(self.otel_span, "output", outputs, self._state)

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute; non-primitive values are stored as JSON."""
        self.otel_span.set_attribute(key, attribute_value(value))

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes; non-primitive values are stored as JSON."""
        self.otel_span.set_attributes({k: attribute_value(v) for k, v in attributes.items()})

    def set_span_type(self, span_type: SpanType | str) -> None:
        """Change the span type (``SpanType`` or its name).

        Raises:
            InvalidArgumentError: an unknown span type (the message lists the valid ones;
                also a ``ValueError``).
        """
        self.otel_span.set_attributes(type_attributes(SpanType.parse(span_type)))

    def record_exception(self, exception: BaseException) -> None:
        """Record ``exception`` as an exception event and set status ERROR."""
        record_error(self.otel_span, exception)

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        """Add a timestamped event."""
        attrs = {k: attribute_value(v) for k, v in (attributes or {}).items()}
        self.otel_span.add_event(name, attrs)


@contextmanager
def start_span(
    name: str,
    span_type: SpanType | str = SpanType.UNKNOWN,
    inputs: Any = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[LiveSpan]:
    """Open a span around a block; an exception escaping the block is recorded (status
    ERROR) and re-raised, a block that ends normally gets status OK (see ``status_ok``).

    Example::

        with otelfeedback.start_span("rerank", span_type="RERANKER", inputs=docs) as span:
            span.set_outputs(rerank(docs))

    Raises:
        InvalidArgumentError: an unknown span type (also a ``ValueError``).
    """
    attrs = type_attributes(SpanType.parse(span_type))
    if attributes:
        attrs.update({k: attribute_value(v) for k, v in attributes.items()})
    state = _state.current()
    span, token, _ = begin(state, name, attrs)
    live = LiveSpan(span, state)
    try:
        if inputs is not None:
            live.set_inputs(inputs)
        yield live
    except BaseException as exc:
        record_error(span, exc)
        raise
    else:
        mark_ok(span, state)
    finally:
        finish(span, token)
