"""Attributes a span gets after it ends, in the export worker: its completion.

A span of ours can end with some of its attributes still to build (the OpenAI
instrumentation's request, response and content attributes): ``end_span`` ends it with a
``Completion`` that builds them, and our span processor (``export/batch.py``) takes the
completion as the span ends (``pending``), queues it with the span and applies it before
the span is exported. The app's thread then only ends the span; the export worker builds
the attributes, a batch of spans at a time, running the same code back to back while it
is in the CPU's caches (in the app's thread it runs once per call, between the app's own
code: measured in docs/openai.md, "Overhead").

Only when nothing but our processors sees the span end (``TracingState.quiet_end``): no
other processor, sampler or exporter can tell the difference, since every exporter gets the
span from our processor after its completion. A completion is applied once (each of our
processors applies it; the first one builds), with the SDK's own rules for an attribute set
again or past the count limit (``sdk_attributes.complete_attributes``). What it builds
failing is logged (``safety.log_internal_error``) and the span is exported with the
attributes it has; a dropped span's completion is never run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace as trace_api

from otelfeedback._internal.safety import log_internal_error
from otelfeedback.tracing.sdk_attributes import complete_attributes

#: The completion of each span being ended now with one, by span id (``end_span``).
_pending: dict[int, Completion] = {}


class Completion:
    """What builds the rest of a span's attributes, and the bytes they are estimated to
    hold once built (the export queue's byte bound counts them while the span is queued)."""

    __slots__ = ("_build", "_lock", "size")

    def __init__(self, build: Callable[[], Mapping[str, Any]], size: int) -> None:
        self._build: Callable[[], Mapping[str, Any]] | None = build
        self._lock = threading.Lock()
        self.size = size

    def apply(self, span: Any) -> None:
        """Build the attributes and add them to ``span`` (the finished span our processor
        holds), the first time only. A failure is logged (``log_internal_error``)."""
        with self._lock:
            build, self._build = self._build, None  # (and its references are let go)
            if build is None:
                return
            try:
                complete_attributes(span, build())
            except Exception:
                log_internal_error("completing a span's attributes")


def end_span(span: trace_api.Span, span_id: int, end_time: int, completion: Completion) -> None:
    """``span.end(end_time)``, with ``completion`` for our processors to take (``pending``)."""
    _pending[span_id] = completion
    try:
        span.end(end_time=end_time)
    finally:
        _pending.pop(span_id, None)


def pending(span_id: int) -> Completion | None:
    """The completion of the span with this id, while it is being ended (``on_end``)."""
    return _pending.get(span_id)
