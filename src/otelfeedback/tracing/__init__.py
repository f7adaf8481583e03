"""Tracing: the ``@trace`` decorator, ``start_span`` and context helpers (OTel API only)."""

from otelfeedback.tracing._state import get_last_active_trace_id
from otelfeedback.tracing.context import (
    propagate_context,
    update_current_trace,
    using_metadata,
    using_session,
    using_tags,
    using_user,
)
from otelfeedback.tracing.decorator import trace
from otelfeedback.tracing.span import LiveSpan, start_span


def get_current_trace_id() -> str | None:
    """Id (32 hex) of the trace of the current span, or ``None`` outside any span."""
    from opentelemetry import trace as trace_api

    ctx = trace_api.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


__all__ = [
    "LiveSpan",
    "get_current_trace_id",
    "get_last_active_trace_id",
    "propagate_context",
    "start_span",
    "trace",
    "update_current_trace",
    "using_metadata",
    "using_session",
    "using_tags",
    "using_user",
]
