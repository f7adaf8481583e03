"""The per-trace tables' partitions, and retention (``otelfeedback store prune``).

``spans``, ``span_attrs`` and ``trace_text`` hold nearly all of a store's bytes. They are
partitioned by trace key (``traces.id``, handed out in arrival order), ``partition_traces``
keys per partition (``store_settings``; 1,000,000 by default), so a partition holds the
traces that arrived in one stretch of time. Pruning drops a whole partition when every
trace in it is older than the cutoff (a quick ``DROP TABLE``, no dead rows, no vacuum) and
deletes the rows of older traces from the partition still filling up. Partitions are made
ahead of need, in their own short transaction, never inside an ingest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: The partitioned tables.
PARTITIONED = ("spans", "span_attrs", "trace_text")
#: Tables keyed by trace key that are not partitioned (small rows, deleted by key).
BY_TRACE_KEY = ("trace_tags", "trace_metadata")
#: Advisory lock: held while partitions are created or dropped.
PARTITION_LOCK = 0x6F74_6566_0002
#: Advisory lock: ingests hold it shared, pruning exclusively (a trace being deleted never
#: receives a span at the same time).
PRUNE_LOCK = 0x6F74_6566_0003
#: Advisory lock: held by the one prune running (several servers may each run retention).
PRUNER_LOCK = 0x6F74_6566_0005
#: Traces deleted per transaction by pruning.
PRUNE_BATCH = 2000
_NAME = re.compile(r"spans_p(\d+)")


def partition_size(conn: Any) -> int:
    row = conn.execute("SELECT value FROM store_settings WHERE key = 'partition_traces'").fetchone()
    return int(row[0])


def existing(conn: Any) -> list[int]:
    """The numbers of the partitions of ``spans``, ascending."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'spans'::regclass"
    ).fetchall()
    numbers = [int(m.group(1)) for (name,) in rows if (m := _NAME.fullmatch(name))]
    return sorted(numbers)


def ensure(conn: Any, size: int, upto_key: int) -> int:
    """Create the partitions up to the one holding trace key ``upto_key`` (and every one
    before it that is missing and not pruned away). Returns the first key not covered.

    ``conn`` is in autocommit mode; each partition is created in its own transaction."""
    wanted = upto_key // size
    have = existing(conn)
    covered = (have[-1] + 1) * size if have else 0
    if have and have[-1] >= wanted:
        return covered
    start = have[-1] + 1 if have else _first_number(conn, size)
    for number in range(start, wanted + 1):
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '10s'")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
            low, high = number * size, (number + 1) * size
            for table in PARTITIONED:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {table}_p{number:06d} PARTITION OF {table} "
                    f"FOR VALUES FROM ({low}) TO ({high})"
                )
    return (wanted + 1) * size


def _first_number(conn: Any, size: int) -> int:
    """Where a store without partitions starts: at the next trace key's partition."""
    row = conn.execute("SELECT last_value, is_called FROM trace_keys").fetchone()
    next_key = int(row[0]) + (1 if row[1] else 0)
    return next_key // size


@dataclass
class PruneStats:
    traces: int = 0
    partitions_dropped: int = 0
    assessment_records: int = 0


def prune(conn: Any, cutoff_ms: int, *, wait: bool = True) -> PruneStats | None:
    """Delete every trace that started before ``cutoff_ms`` (with its spans, attributes,
    text, tags, metadata and assessments), and assessment records older than the cutoff
    whose trace is not stored. ``conn`` is in autocommit mode. One prune runs at a time:
    without ``wait``, returns None at once when another is running."""
    if wait:
        conn.execute("SELECT pg_advisory_lock(%s)", (PRUNER_LOCK,))
    elif not conn.execute("SELECT pg_try_advisory_lock(%s)", (PRUNER_LOCK,)).fetchone()[0]:
        return None
    try:
        return _prune(conn, cutoff_ms)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (PRUNER_LOCK,))


def _prune(conn: Any, cutoff_ms: int) -> PruneStats:
    stats = PruneStats()
    size = partition_size(conn)
    next_key = _first_number(conn, 1)
    for number in existing(conn):
        low, high = number * size, (number + 1) * size
        if high > next_key:
            break  # still filling up: its rows are deleted below
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PRUNE_LOCK,))
            young = conn.execute(
                "SELECT 1 FROM traces WHERE id >= %s AND id < %s AND start_ms >= %s LIMIT 1",
                (low, high, cutoff_ms),
            ).fetchone()
            if young is not None:
                continue
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
            stats.traces += _delete_traces(conn, "id >= %s AND id < %s", (low, high), rows=False)
            for table in PARTITIONED:
                conn.execute(f"DROP TABLE {table}_p{number:06d}")
            stats.partitions_dropped += 1
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PRUNE_LOCK,))
            deleted = _delete_traces(
                conn,
                "id IN (SELECT id FROM traces WHERE start_ms < %s LIMIT %s)",
                (cutoff_ms, PRUNE_BATCH),
                rows=True,
            )
        stats.traces += deleted
        if deleted < PRUNE_BATCH:
            break
    with conn.transaction():
        cur = conn.execute(
            "DELETE FROM assessment_records r WHERE time_ns < %s AND NOT EXISTS "
            "(SELECT 1 FROM traces t WHERE t.trace_id = r.trace_id)",
            (cutoff_ms * 1_000_000,),
        )
        stats.assessment_records += cur.rowcount
        conn.execute(
            "DELETE FROM assessments a WHERE NOT EXISTS (SELECT 1 FROM assessment_records r "
            "WHERE r.trace_id = a.trace_id)"
        )
    return stats


def _delete_traces(conn: Any, where: str, params: tuple[Any, ...], *, rows: bool) -> int:
    """Delete the traces matching ``where`` and everything keyed by them; with ``rows``,
    also their rows of the partitioned tables (else the caller drops the partition)."""
    found = conn.execute(f"DELETE FROM traces WHERE {where} RETURNING id, trace_id", params)
    deleted = found.fetchall()
    if not deleted:
        return 0
    keys = [row[0] for row in deleted]
    trace_ids = [row[1] for row in deleted]
    tables = (*BY_TRACE_KEY, *(PARTITIONED if rows else ()))
    for table in tables:
        conn.execute(f"DELETE FROM {table} WHERE tid = ANY(%s)", (keys,))
    conn.execute("DELETE FROM assessments WHERE trace_id = ANY(%s)", (trace_ids,))
    conn.execute("DELETE FROM assessment_records WHERE trace_id = ANY(%s)", (trace_ids,))
    return len(deleted)
