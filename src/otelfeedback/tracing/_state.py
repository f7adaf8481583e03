"""Where the tracing layer finds its tracer and settings (OpenTelemetry API only).

``otelfeedback.setup`` installs a ``TracingState`` when ``configure()`` runs, and registers
the function that builds the default configuration on first use. Nothing here runs at import.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import trace as trace_api


@dataclass(frozen=True)
class TracingState:
    """What the hot path needs, resolved once by ``configure()``."""

    tracer: trace_api.Tracer
    capture_content: bool = True
    max_value_length: int = 65536
    #: Set status OK on our spans that end without an exception.
    status_ok: bool = True
    #: The OpenAI span attribute profile: ``"lean"`` or ``"full"``.
    openai_attributes: str = "lean"
    #: The tracer's span processors (the SDK's tuple of them) when ``configure()`` built
    #: the provider and found that nothing reads a span's attributes at its start: a
    #: sampler that reads none (the SDK's always-on/off, trace-id ratio and parent-based
    #: ones) and processors of ours. While the tracer has exactly these (a processor added
    #: later makes a new tuple), spans get the attributes meant for the sampler right
    #: after their start, the cheap way (``sdk_attributes.start_sdk_span``). ``None``: at the
    #: start, where the sampler and ``on_start`` see them.
    quiet_start: object = None
    #: The tracer's span processors when ``configure()`` built the provider and every
    #: processor is ours: while the tracer has exactly these, nothing but our processors
    #: sees a span end, and a span may end with a completion (``tracing/completion.py``).
    #: ``None``: every attribute is set before the span ends.
    quiet_end: object = None


_active: TracingState | None = None
_default_configurer: Callable[[], None] | None = None
_lock = threading.RLock()

#: Spans of ours that are still recording, by span id (for assessments on a live span).
_live_spans: dict[int, trace_api.Span] = {}

#: The local root span (outermost span of ours) of recent traces: trace id -> span id.
_local_roots: OrderedDict[int, int] = OrderedDict()
_MAX_LOCAL_ROOTS = 4096
#: When the local root of a recent trace ended (ns): trace id -> end time.
_root_ends: dict[int, int] = {}

#: As an int: formatting to hex happens on read, not on every span end.
_last_trace_id: ContextVar[int | None] = ContextVar("otelfeedback_last_trace_id", default=None)


def install(state: TracingState | None) -> None:
    """Make ``state`` the active tracing state (``None`` forgets it)."""
    global _active
    with _lock:
        _active = state


def register_default_configurer(configurer: Callable[[], None]) -> None:
    """Set the function that configures the defaults when a span starts unconfigured."""
    global _default_configurer
    _default_configurer = configurer


def current() -> TracingState:
    """The active state, configuring the defaults on first use."""
    state = _active
    if state is not None:
        return state
    with _lock:
        if _active is None:
            if _default_configurer is not None:
                _default_configurer()
            if _active is None:  # nothing configured us: follow the global provider
                install(TracingState(trace_api.get_tracer("otelfeedback")))
        assert _active is not None
        return _active


def is_configured() -> bool:
    """Whether a tracing state is installed."""
    return _active is not None


def get_tracer() -> trace_api.Tracer:
    """The OTel tracer of the active configuration."""
    return current().tracer


def get_live_span(span_id: str) -> trace_api.Span | None:
    """The span with this hex id if it is ours and still recording in this process."""
    try:
        return _live_spans.get(int(span_id, 16))
    except ValueError:
        return None


def note_local_root(trace_id: int, span_id: int) -> None:
    """Remember the outermost span of ours in ``trace_id`` (bounded: oldest forgotten)."""
    roots = _local_roots
    roots.setdefault(trace_id, span_id)
    if len(roots) > _MAX_LOCAL_ROOTS:
        try:
            evicted, _ = roots.popitem(last=False)
            _root_ends.pop(evicted, None)
        except KeyError:
            pass


def span_ending(trace_id: int, span_id: int) -> int:
    """Book the end of a span of ours and return its end time (now, in ns; pass it to
    ``span.end``): it leaves the live registry, and the end of a trace's local root is
    remembered (``local_root_end``) so later feedback can stay inside the trace."""
    _live_spans.pop(span_id, None)
    now = time.time_ns()
    if _local_roots.get(trace_id) == span_id:
        _root_ends[trace_id] = now
    return now


def local_root_end(trace_id: str) -> int | None:
    """When the local root of ``trace_id`` ended in this process (ns), or ``None`` (still
    running, or not traced here recently)."""
    try:
        return _root_ends.get(int(trace_id, 16))
    except ValueError:
        return None


def find_local_root(trace_id: str) -> str | None:
    """Hex id of the outermost span of ours in the trace ``trace_id``, if the trace was
    recorded recently in this process (still running or ended), else ``None``."""
    try:
        span_id = _local_roots.get(int(trace_id, 16))
    except ValueError:
        return None
    return None if span_id is None else format(span_id, "016x")


def get_last_active_trace_id() -> str | None:
    """Id (32 hex) of the last trace whose span of ours ended in this thread or async task.

    >>> get_last_active_trace_id() is None or len(get_last_active_trace_id()) == 32
    True
    """
    trace_id = _last_trace_id.get()
    return None if trace_id is None else format(trace_id, "032x")
