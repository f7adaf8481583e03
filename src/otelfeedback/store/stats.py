"""Aggregates over the traces a filter selects: the traces page's count and summary strip.

One pass over the matching rows of ``traces`` (start, latency, status) and one over their
boolean feedback gives: how many traces, how many failed, latency percentiles, the share
of thumbs-down among boolean feedback, and the same per time bucket for the small charts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

#: Buckets of the summary charts.
DEFAULT_BUCKETS = 24
#: Newest matches summarised when counting all would read every trace's text.
SAMPLE = 2000


@dataclass
class Bucket:
    """One time slice: ``[start_ms, end_ms)``."""

    start_ms: int
    end_ms: int
    count: int = 0
    errors: int = 0
    mean_ms: float | None = None
    thumbs_up: int = 0
    thumbs_down: int = 0


@dataclass
class TraceStats:
    """What ``FileStore.trace_stats`` returns. Rates are ``None`` when nothing was counted.

    ``thumbs_up`` / ``thumbs_down`` count valid feedback whose value is ``true`` / ``false``
    (any name), so ``thumbs_down_share`` is the share of negative ratings. ``sampled`` says
    the figures cover only the newest ``count`` matching traces (a full-text search the
    index could not narrow: counting every match would read every trace's text)."""

    count: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    thumbs_up: int
    thumbs_down: int
    start_ms: int | None
    end_ms: int | None
    buckets: list[Bucket] = field(default_factory=list)
    sampled: bool = False

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
            "sampled": self.sampled,
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


def _walk_percentiles(conn: Any, count: int, mark: str) -> tuple[float | None, float | None]:
    """Nearest-rank p50 and p95 of every trace's latency: an ordered walk of the latency
    index, no sort."""
    found: list[float | None] = []
    for fraction in (0.5, 0.95):
        rank = max(1, math.ceil(fraction * count))
        row = conn.execute(
            "SELECT execution_time_ms FROM traces ORDER BY execution_time_ms "
            f"LIMIT 1 OFFSET {mark}",
            [rank - 1],
        ).fetchone()
        found.append(None if row is None or not count else float(row[0]))
    return found[0], found[1]


#: The compiled form of "no filter".
ALL = "1=1"
#: 1 for a failed trace, else 0 (SQLite and PostgreSQL alike).
_FAILED = "CASE WHEN status = 'ERROR' THEN 1 ELSE 0 END"


def compute(
    conn: Any,
    where: str,
    params: list[Any],
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    buckets: int = DEFAULT_BUCKETS,
    sample: int | None = None,
    mark: str = "?",
) -> TraceStats:
    """The aggregates of ``SELECT ... FROM traces t WHERE {where}``. Slices split
    ``[start_ms, end_ms)``, by default the time span of the whole store (two index seeks),
    so that the charts of a filtered selection show where in time its traces fall. With
    ``sample``, only the newest ``sample`` matching traces are counted (``sampled`` is set
    when there may be more).

    One ``GROUP BY`` per slice over the ``traces_start`` index (start, status, latency: an
    index-only scan for an unfiltered selection) gives the counts, failures and mean
    latency; percentiles come from the latencies; ratings are yes/no feedback on the
    selected traces, sliced by when they were given (``create_time_ms``).

    ``conn`` is a SQLite connection, or a psycopg one with ``mark="%s"`` (the PostgreSQL
    store: the same tables and columns)."""
    if sample is not None:
        where = (
            f"t.id IN (SELECT t.id FROM traces t WHERE {where} "
            f"ORDER BY t.start_ms DESC LIMIT {int(sample)})"
        )
    first = start_ms
    if first is None:
        first = conn.execute("SELECT min(start_ms) FROM traces").fetchone()[0]
    last = end_ms
    if last is None:
        last = conn.execute("SELECT max(start_ms) FROM traces").fetchone()[0]
    stats = TraceStats(0, 0, None, None, 0, 0, first, last)
    if first is None or last is None:
        return stats
    slices_count = max(1, buckets)
    width = max(1, math.ceil((last + 1 - first) / slices_count))
    slices = [Bucket(first + i * width, first + (i + 1) * width) for i in range(slices_count)]

    def slot(raw: int) -> Bucket:
        return slices[min(slices_count - 1, max(0, raw))]

    if where == ALL:  # per slice, a range of the start index (start, status, latency)
        for bucket in slices:
            n, failed, mean = conn.execute(
                f"SELECT count(*), coalesce(sum({_FAILED}), 0), avg(execution_time_ms) "
                f"FROM traces WHERE start_ms >= {mark} AND start_ms < {mark}",
                [bucket.start_ms, bucket.end_ms],
            ).fetchone()
            bucket.count, bucket.errors = int(n), int(failed)
            bucket.mean_ms = None if mean is None else float(mean)
            stats.count += bucket.count
            stats.errors += bucket.errors
        stats.p50_ms, stats.p95_ms = _walk_percentiles(conn, stats.count, mark)
    else:  # one pass over the selection (the start index covers a time range)
        durations: list[float] = []
        sums: dict[int, float] = {}
        for start, failed, duration in conn.execute(
            f"SELECT t.start_ms, {_FAILED}, t.execution_time_ms FROM traces t WHERE {where}",
            params,
        ):
            bucket = slot((start - first) // width)
            bucket.count += 1
            bucket.errors += failed
            sums[id(bucket)] = sums.get(id(bucket), 0.0) + duration
            bucket.mean_ms = sums[id(bucket)] / bucket.count
            durations.append(duration)
        durations.sort()
        stats.count, stats.errors = len(durations), sum(x.errors for x in slices)
        if durations:
            stats.p50_ms, stats.p95_ms = (
                float(durations[max(1, math.ceil(f * len(durations))) - 1]) for f in (0.5, 0.95)
            )
    if sample is not None:
        stats.sampled = stats.count >= sample
    selected = (
        "" if where == ALL else f"AND a.trace_id IN (SELECT t.trace_id FROM traces t WHERE {where})"
    )
    for index, value, n in conn.execute(
        f"SELECT (coalesce(a.create_time_ms, 0) - {mark}) / {mark}, a.value_text, count(*) "
        "FROM assessments a WHERE a.kind = 'feedback' AND a.valid = 1 "
        f"AND a.value_text IN ('true', 'false') {selected} GROUP BY 1, 2",
        [first, width, *([] if where == ALL else params)],
    ):
        bucket = slot(int(index))
        if value == "true":
            bucket.thumbs_up += n
            stats.thumbs_up += n
        else:
            bucket.thumbs_down += n
            stats.thumbs_down += n
    if buckets >= 1:
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


def first_errors(conn: Any, trace_ids: list[str], mark: str = "?") -> dict[str, str]:
    """For each of these traces with a failed span (the root or any other), what went
    wrong: the earliest failed span that says why (status message or exception), else
    "<name> failed" for the earliest failed span. (``mark``: as in ``compute``.)"""
    if not trace_ids:
        return {}
    marks = ", ".join([mark] * len(trace_ids))
    # The traces' keys first, then their failed spans by key (the span index's prefix):
    # joined in one statement, PostgreSQL scans every span for the status.
    keys = dict(
        conn.execute(f"SELECT id, trace_id FROM traces WHERE trace_id IN ({marks})", trace_ids)
    )
    if not keys:
        return {}
    key_marks = ", ".join([mark] * len(keys))
    found: dict[str, str] = {}
    fallback: dict[str, str] = {}
    for tid, name, data in conn.execute(
        f"SELECT tid, name, data FROM spans WHERE tid IN ({key_marks}) AND status = 'ERROR' "
        "ORDER BY start_ns",
        list(keys),
    ):
        trace_id = keys[tid]
        if trace_id in found:
            continue
        text = _error_text(data)
        if text is not None:
            found[trace_id] = text
        else:
            fallback.setdefault(trace_id, f"{name} failed")
    return {**fallback, **found}
