"""Aggregates over the traces a filter selects: the traces page's count and summary strip.

One pass over the matching rows of ``traces`` (start, latency, status) and one over their
boolean feedback gives: how many traces, how many failed, latency percentiles, the share
of thumbs-down among boolean feedback, and the same per time bucket for the small charts.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any

#: Buckets of the summary charts.
DEFAULT_BUCKETS = 24


@dataclass
class Bucket:
    """One time slice: ``[start_ms, end_ms)``."""

    start_ms: int
    end_ms: int
    count: int = 0
    errors: int = 0
    p95_ms: float | None = None
    thumbs_up: int = 0
    thumbs_down: int = 0


@dataclass
class TraceStats:
    """What ``FileStore.trace_stats`` returns. Rates are ``None`` when nothing was counted.

    ``thumbs_up`` / ``thumbs_down`` count valid feedback whose value is ``true`` / ``false``
    (any name), so ``thumbs_down_share`` is the share of negative ratings."""

    count: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    thumbs_up: int
    thumbs_down: int
    start_ms: int | None
    end_ms: int | None
    buckets: list[Bucket] = field(default_factory=list)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.count if self.count else None

    @property
    def thumbs_down_share(self) -> float | None:
        rated = self.thumbs_up + self.thumbs_down
        return self.thumbs_down / rated if rated else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "thumbs_up": self.thumbs_up,
            "thumbs_down": self.thumbs_down,
            "thumbs_down_share": self.thumbs_down_share,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "buckets": [vars(b).copy() for b in self.buckets],
        }


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of already sorted values (None for none)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def compute(
    conn: sqlite3.Connection,
    where: str,
    params: list[Any],
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    buckets: int = DEFAULT_BUCKETS,
) -> TraceStats:
    """The aggregates of ``SELECT ... FROM traces t WHERE {where}``; buckets split
    ``[start_ms, end_ms)`` (by default the span of the matching traces)."""
    rows = conn.execute(
        f"SELECT t.start_ms, t.execution_time_ms, t.status = 'ERROR' FROM traces t WHERE {where}",
        params,
    ).fetchall()
    ratings = conn.execute(
        "SELECT t.start_ms, a.value_text FROM assessments a JOIN traces t "
        "ON t.trace_id = a.trace_id WHERE a.kind = 'feedback' AND a.valid = 1 "
        f"AND a.value_text IN ('true', 'false') AND {where}",
        params,
    ).fetchall()
    durations = sorted(r[1] for r in rows)
    errors = sum(1 for r in rows if r[2])
    ups = sum(1 for r in ratings if r[1] == "true")
    first = start_ms if start_ms is not None else min((r[0] for r in rows), default=None)
    last = end_ms if end_ms is not None else max((r[0] for r in rows), default=None)
    stats = TraceStats(
        count=len(rows),
        errors=errors,
        p50_ms=percentile(durations, 0.5),
        p95_ms=percentile(durations, 0.95),
        thumbs_up=ups,
        thumbs_down=len(ratings) - ups,
        start_ms=first,
        end_ms=last,
    )
    if first is None or last is None or buckets < 1:
        return stats
    width = max(1, math.ceil((last + 1 - first) / buckets))
    slices = [Bucket(first + i * width, first + (i + 1) * width) for i in range(buckets)]
    latencies: list[list[float]] = [[] for _ in slices]
    for start, duration, failed in rows:
        index = min(buckets - 1, max(0, (start - first) // width))
        slices[index].count += 1
        slices[index].errors += 1 if failed else 0
        latencies[index].append(duration)
    for start, value in ratings:
        index = min(buckets - 1, max(0, (start - first) // width))
        if value == "true":
            slices[index].thumbs_up += 1
        else:
            slices[index].thumbs_down += 1
    for bucket, values in zip(slices, latencies, strict=True):
        bucket.p95_ms = percentile(sorted(values), 0.95)
    stats.buckets = slices
    return stats


def _error_text(data: str) -> str | None:
    """What went wrong in a failed span: its status message, else its first exception
    event (``Type: message``), else None."""
    fields = json.loads(data)
    message = fields.get("status_message")
    if isinstance(message, str) and message.strip():
        return message.strip()
    for event in fields.get("events") or []:
        if event[0] == "exception":
            attrs = event[2] or {}
            kind = attrs.get("exception.type") or "Exception"
            text = attrs.get("exception.message")
            return f"{kind}: {text}" if text else str(kind)
    return None


def first_errors(conn: sqlite3.Connection, trace_ids: list[str]) -> dict[str, str]:
    """For each of these traces with a failed span (the root or any other), what went
    wrong: the earliest failed span that says why (status message or exception), else
    "<name> failed" for the earliest failed span."""
    if not trace_ids:
        return {}
    marks = ", ".join("?" * len(trace_ids))
    found: dict[str, str] = {}
    fallback: dict[str, str] = {}
    for trace_id, name, data in conn.execute(
        "SELECT t.trace_id, s.name, s.data FROM traces t JOIN spans s ON s.tid = t.id "
        f"WHERE t.trace_id IN ({marks}) AND s.status = 'ERROR' ORDER BY s.start_ns",
        trace_ids,
    ):
        if trace_id in found:
            continue
        text = _error_text(data)
        if text is not None:
            found[trace_id] = text
        else:
            fallback.setdefault(trace_id, f"{name} failed")
    return {**fallback, **found}
