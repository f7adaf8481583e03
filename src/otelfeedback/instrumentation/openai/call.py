"""One instrumented OpenAI call: its span from start to end, whatever way the call ends.

``wrapper._begin`` starts the span with what a sampler may read; the client's HTTP
response is noted when the client gets it (``note_response``); the choke-point wrapper then
reports the outcome with ``fail`` (the SDK raised) or ``succeed`` (a response, a stream or a
raw response). The request's and the response's attributes, with ``input.value`` /
``output.value`` (the bodies as sent, see ``wire``), are set in one go when the call ends
(``end_attributes``; a stream's chunks are accumulated as they go by, and recorded when it
ends). When only our span processors see the span end, a whole response's are built from
the two bodies by the export worker instead (``from_bodies``, the span's completion: see
``tracing/completion.py``). Every step catches its own failures: recording never changes
what the caller gets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api

from otelfeedback import semconv as sc
from otelfeedback._internal.safety import log_internal_error
from otelfeedback.instrumentation.openai import raw, streams, wire
from otelfeedback.instrumentation.openai.content import Content
from otelfeedback.tracing import _state
from otelfeedback.tracing.completion import Completion, end_span
from otelfeedback.tracing.sdk_attributes import add_attributes, processors_are
from otelfeedback.tracing.span import record_error

if TYPE_CHECKING:
    from otelfeedback.instrumentation.openai.endpoints import Endpoint

#: A whole response's attributes beside its bodies, in bytes (the completion's estimate).
PENDING_BYTES = 4096
#: Calls that end within this many ns of the previous one are "in a row": their spans
#: share the export worker's batches, which build their attributes back to back.
IN_A_ROW_NS = 100_000_000
_last_end_ns = 0  # (monotonic; written by every call's end, from any thread)


class Call:
    """The span of one call and what is needed to finish it."""

    __slots__ = (
        "__weakref__",
        "acc",
        "body",
        "content",
        "context",
        "ended",
        "ending",
        "endpoint",
        "first_chunk_ns",
        "http",
        "retries",
        "span",
        "span_id",
        "start_ns",
        "trace_id",
    )

    def __init__(
        self,
        span: trace_api.Span,
        ids: tuple[int, int],
        context: otel_context.Context,
        endpoint: Endpoint,
        content: Content,
        body: Mapping[str, Any],
        ending: tuple[trace_api.Tracer, object] | None = None,
    ) -> None:
        self.span = span
        self.trace_id, self.span_id = ids
        self.context = context
        self.endpoint = endpoint
        self.content = content
        self.start_ns = time.perf_counter_ns()
        self.ended = False
        self.retries = 0
        self.first_chunk_ns = 0
        self.acc: streams.Accumulator = streams._NoAccumulator()  # a stream's chunks so far
        # The request body as the SDK sends it (its own copy of the arguments): the
        # request's attributes, and ``input.value`` when the bytes sent are not at hand;
        # the HTTP response, once the client has it (``note_response``), whose bytes and
        # request's bytes are recorded.
        self.body = body
        self.http: Any = None
        # The tracer and its span processors with which only ours see the span end
        # (``TracingState.quiet_end``): then a whole response's attributes are built by
        # the export worker (``tracing/completion.py``).
        self.ending = ending

    # --- outcomes --------------------------------------------------------------------
    def succeed(self, result: Any, stream: bool, is_async: bool) -> Any:
        """Record ``result`` (or start watching it) and return it unchanged."""
        try:  # (the type checks inline: every call runs this)
            if isinstance(result, raw.STREAM_TYPES):
                self.watch_stream(result, is_async)
            elif isinstance(result, raw.RAW_TYPES):
                raw.observe(result, self, stream)
            else:
                self._end(result, None)
        except Exception:
            log_internal_error("recording an OpenAI response")
            self.end()
        return result

    def watch_stream(self, stream: Any, is_async: bool) -> None:
        factory = self.endpoint.accumulator
        if factory is not None:
            self.acc = factory()
        if not streams.observe(stream, self, is_async):
            self.acc = streams._NoAccumulator()
            self.end()

    def finish_with(self, response: Any) -> None:
        """Record a whole response (a model object or its JSON data) and end the span."""
        if self.ended:
            return
        self._end(response, None)

    def fail(self, exc: BaseException) -> None:
        """Record the SDK's exception (it is re-raised by the caller) and end the span."""
        if self.ended:
            return
        if self.http is None:  # a status error carries the HTTP response (and its request)
            self.http = getattr(exc, "response", None)
        self._record_error(exc)
        self._end(None, None)

    def _record_error(self, exc: BaseException) -> None:
        try:
            attrs: dict[str, Any] = {sc.ERROR_TYPE: type(exc).__qualname__}
            status = getattr(exc, "status_code", None)
            if isinstance(status, int):
                attrs[sc.HTTP_RESPONSE_STATUS_CODE] = status
            self.span.set_attributes(attrs)
            record_error(self.span, exc)
        except Exception:
            log_internal_error("recording an OpenAI error")

    # --- streams ---------------------------------------------------------------------
    def note_first_chunk(self) -> None:
        self.first_chunk_ns = time.perf_counter_ns()

    def end_stream(self, how: str, exc: BaseException | None = None) -> None:
        """End a streamed call's span with what the chunks so far add up to."""
        if self.ended:
            return
        if exc is not None:
            self._record_error(exc)
        self._end(None, how)

    # --- the HTTP response ----------------------------------------------------------
    def note_response(self, http: Any) -> None:
        """Keep the ``httpx`` response the client is about to process (see
        ``wrapper.process_response_sync``): its body and its request's body are what
        ``input.value`` / ``output.value`` record."""
        self.http = http

    # --- retries ---------------------------------------------------------------------
    def note_retry(self, options: Mapping[str, Any], error: str | None, at_ns: int) -> None:
        """Add a retry event (at ``at_ns``, when the client decided to retry)."""
        try:
            number = int(options.get("retries_taken", self.retries)) + 1
            self.retries = number
            attrs: dict[str, Any] = {
                sc.HTTP_REQUEST_RESEND_COUNT: number,
                sc.RETRY_DELAY_S: (time.time_ns() - at_ns) / 1e9,
            }
            response = options.get("response")
            status = getattr(response, "status_code", None)
            if isinstance(status, int):
                attrs[sc.HTTP_RESPONSE_STATUS_CODE] = status
                attrs[sc.ERROR_TYPE] = str(status)
            elif error:
                attrs[sc.ERROR_TYPE] = error
            self.span.add_event(sc.RETRY_EVENT, attrs, timestamp=at_ns)
        except Exception:
            log_internal_error("recording an OpenAI retry")

    # --- the end ---------------------------------------------------------------------
    def end(self) -> None:
        """End the span with what is known so far."""
        self._end(None, None)

    def _end(self, response: Any, stream_end: str | None) -> None:
        """End the span: with the attributes known now (time to first chunk, how a stream
        ended, retries), then those of the request, of ``response`` (or the one the
        stream's chunks add up to) and the bodies (``_attributes``). A whole response's
        are built by the export worker when only our processors see the span end
        (``tracing/completion.py``); otherwise, and for streams, here."""
        if self.ended:
            return
        self.ended = True
        attrs: dict[str, Any] = {}
        if self.first_chunk_ns:
            seconds = (self.first_chunk_ns - self.start_ns) / 1e9
            attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = seconds
        if stream_end is not None:
            attrs[sc.STREAM_END] = stream_end
        if self.retries:
            attrs[sc.HTTP_REQUEST_RESEND_COUNT] = self.retries
        later = None
        try:
            later = self._completion(response)
            if later is None:
                attrs.update(self._attributes(response))
        except Exception:  # (each part catches its own: this is for what is left)
            log_internal_error("recording an OpenAI call")
        try:
            if attrs:
                add_attributes(self.span, attrs)
            end_time = _state.span_ending(self.trace_id, self.span_id)
            if later is None:
                self.span.end(end_time=end_time)
            else:
                end_span(self.span, self.span_id, end_time, later)
            _state._last_trace_id.set(self.trace_id)
        except Exception:
            log_internal_error("ending an OpenAI span")

    def _completion(self, response: Any) -> Completion | None:
        """The completion that builds the end attributes of a whole ``response`` in the
        export worker, from the bodies as they crossed the wire (``from_bodies``): when
        the call comes right after another (``IN_A_ROW_NS``: the worker then builds a
        batch of them back to back, where one alone would cost it as much as here, plus
        parsing the bodies), only our processors see the span end (the tracer still has
        the processors ``configure()`` found to be ours), both bodies are JSON text in
        memory, the response's attributes read as well from its JSON as from the SDK's
        model (not embeddings, whose vectors arrive base64-encoded), and no redaction
        hook is set (the app's hook runs in the app's thread). Else ``None``.

        It holds the two texts, nothing else of the call: strings, which the garbage
        collector does not track (the response model, the HTTP exchange and the request
        body are freed as the call returns, as without it)."""
        global _last_end_ns
        now = time.monotonic_ns()
        in_a_row, _last_end_ns = now - _last_end_ns < IN_A_ROW_NS, now
        ending, http = self.ending, self.http
        if (
            not in_a_row
            or ending is None
            or response is None
            or http is None
            or self.content.redact is not None
            or not self.endpoint.output_is_body  # (embeddings: the SDK decodes the vectors)
            or not processors_are(*ending)
        ):
            return None
        received = wire.body_text(http)
        sent = wire.body_text(getattr(http, "request", None))
        if received is None or sent is None:
            return None
        # Both texts end up in input.value / output.value, and their contents about once
        # more in the messages' attributes; their bytes on the wire (UTF-8: at least what
        # the texts hold in memory) are what they are counted by.
        size = PENDING_BYTES + 2 * (wire.body_size(http) + wire.body_size(http.request))
        return Completion(partial(from_bodies, self.endpoint, self.content, sent, received), size)

    def _attributes(self, response: Any) -> dict[str, Any]:
        """``end_attributes`` here and now: of ``response`` (whole), else of the response
        a stream's chunks add up to, with the bodies' texts when at hand."""
        what = "response"
        whole = response is not None
        if not whole:  # a stream: what its chunks add up to
            what = "stream"
            try:
                response = self.acc.result()
            except Exception:
                log_internal_error("recording an OpenAI stream")
        sent = received = None
        http = self.http
        if self.content.capture and http is not None:
            received = wire.body_text(http) if whole else None
            sent = wire.body_text(getattr(http, "request", None))
        return end_attributes(
            self.endpoint, self.content, self.body, response, sent, received, what
        )

    def __del__(self) -> None:
        # A stream or raw response dropped unfinished: end its span now.
        if not self.ended:
            self.end_stream("abandoned")


def end_attributes(
    endpoint: Endpoint,
    content: Content,
    body: Mapping[str, Any],
    response: Any,
    sent: str | None,
    received: str | None,
    what: str = "response",
) -> dict[str, Any]:
    """What a call's span gets at its end: the request's attributes (from ``body``), the
    response's (from ``response``, a model or its JSON data; none if ``None``) and, with
    content captured, ``input.value`` / ``output.value``: the texts ``sent`` and
    ``received`` when at hand, else our JSON of ``body`` / ``response``. Each part that
    fails is logged and left out (``what``: the response's kind, for the log)."""
    attrs: dict[str, Any] = {}
    try:
        attrs = endpoint.request(body, content)
    except Exception:
        log_internal_error("recording an OpenAI request")
    if response is not None:
        try:
            attrs.update(endpoint.response(response, content))
        except Exception:
            log_internal_error(f"recording an OpenAI {what}")
        if content.capture and endpoint.output_is_body:
            try:
                content.add_io(attrs, "output", response if received is None else received)
            except Exception:
                log_internal_error(f"recording an OpenAI {what}")
    if content.capture:
        try:
            content.add_io(attrs, "input", body if sent is None else sent)
        except Exception:
            log_internal_error("recording an OpenAI request")
    return attrs


def from_bodies(endpoint: Endpoint, content: Content, sent: str, received: str) -> dict[str, Any]:
    """``end_attributes`` of a whole response from the request and response bodies as they
    crossed the wire (JSON text): what a call's completion builds in the export worker."""
    return end_attributes(endpoint, content, json.loads(sent), json.loads(received), sent, received)
