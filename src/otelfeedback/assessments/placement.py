"""Where an assessment record's carrier span goes, so that it never changes its target trace.

Backends take a trace's duration from its earliest start to its latest end, and its shape
from parentage. So a carrier joins its target trace only when we know a span of it and the
time that span (or the trace) occupies; then it is parented to that span, linked to it, and
placed inside that time: ``start = end = clamp(record time, [not_before, not_after])``. Late
feedback therefore sits at the target's end; feedback given while the trace still runs keeps
its real time. The real time of the record is always in the record itself
(``otelfeedback.assessment.time_unix_nano``), which is what readers order records by.

When nothing of the trace is known (no store, not traced in this process), the carrier is the
root of a trace of its own, at the record's time, linked to the target span when its id was
given: readers find the target through the record (and the link), never through parentage.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """The span a record is about and the time its carrier may occupy.

    Attributes:
        span_id: the target span (the assessment's span, or the trace's root for a trace-level
            one); None when no span of the trace is known.
        not_before: the carrier's earliest time (ns), the target's start; None when unknown.
        not_after: its latest time (ns), the target's end; None while the trace still runs
            here (no upper bound) or when unknown.
    """

    span_id: str | None
    not_before: int | None = None
    not_after: int | None = None

    @property
    def joins_trace(self) -> bool:
        """Whether the carrier may go into the target trace: a span of it is known, and so
        is where it lies in time."""
        return self.span_id is not None and self.not_before is not None

    def carrier_time(self, record_time_ns: int) -> int:
        """The carrier's start and end time for a record made at ``record_time_ns``."""
        if not self.joins_trace:
            return record_time_ns
        time_ns = record_time_ns
        if self.not_after is not None:
            time_ns = min(time_ns, self.not_after)
        assert self.not_before is not None
        return max(time_ns, self.not_before)


def span_target(span_id: str, start_ns: int, end_ns: int) -> Target:
    """A target span with its time range (a stored span)."""
    return Target(span_id, min(start_ns, end_ns), max(start_ns, end_ns))


def running_target(span_id: str, now_ns: int) -> Target:
    """A span of a trace that is still running in this process: no upper bound."""
    return Target(span_id, now_ns, None)


def ended_target(span_id: str, trace_end_ns: int) -> Target:
    """A span of a trace whose local root ended in this process at ``trace_end_ns``."""
    return Target(span_id, trace_end_ns, trace_end_ns)
