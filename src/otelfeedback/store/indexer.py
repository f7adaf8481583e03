"""Bring the SQLite index up to date with the OTLP/JSON segments, incrementally.

Each segment's indexed byte offset (and line count) is stored with the rows it produced, in
the same transaction, so the index is exactly "the first N complete lines of each segment"
at any moment, whoever (which process) indexed them. A last line without a newline is not
consumed yet (its writer is still writing it). A line that does not decode is skipped with a
warning naming the file and the line; the rest is indexed.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from otelfeedback._internal.gc_pause import gc_paused
from otelfeedback._internal.otlp_json.decode import OTLPDecodeError, SpanRecord, iter_spans
from otelfeedback._internal.otlp_json.segments import list_segments as _list_segments
from otelfeedback.store import bulk, chunk
from otelfeedback.store.schema import CLEAR_STATEMENTS

logger = logging.getLogger("otelfeedback.store")

#: Spans per write transaction: bounds memory whatever the store's size.
CHUNK_SPANS = 20000
CHUNK_BYTES = 32 * 1024 * 1024


@dataclass
class IndexStats:
    lines: int = 0
    spans: int = 0
    records: int = 0  # assessment records
    skipped_lines: int = 0
    record_lines: int = 0  # lines of <store>/records/ (store/record_index.py)
    stored_records: int = 0  # records that are not spans (datasets, labeling, runs)


def list_segments(traces_dir: Path) -> list[Path]:
    """Segment files, oldest first (numeric order)."""
    return [path for _, path in _list_segments(traces_dir)]


def pending(conn: sqlite3.Connection, traces_dir: Path) -> list[tuple[Path, int]]:
    """Segments with bytes beyond their indexed offset (no write lock taken)."""
    offsets = dict(conn.execute("SELECT name, offset FROM segments").fetchall())
    result = []
    for path in list_segments(traces_dir):
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if size > offsets.get(path.name, 0):
            result.append((path, size))
    return result


def update(conn: sqlite3.Connection, traces_dir: Path) -> IndexStats:
    """Index every complete line not indexed yet (a large backlog on an empty index as a
    bulk load: see ``store/bulk.py``)."""
    stats = IndexStats()
    todo = pending(conn, traces_dir)
    bulk.restore_indexes(conn)
    deferred = bulk.is_bulk(conn, todo) and bulk.defer_indexes(conn)
    try:
        for path, _ in todo:
            while _index_chunk(conn, path, stats):
                pass
    finally:
        if deferred:
            bulk.restore_indexes(conn)
    return stats


def clear(conn: sqlite3.Connection) -> None:
    """Empty every derived table (the next ``update`` reads everything again)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in CLEAR_STATEMENTS:
            conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _index_chunk(conn: sqlite3.Connection, path: Path, stats: IndexStats) -> bool:
    """Index up to one chunk of ``path`` in one transaction. Returns whether there may be
    more complete lines after it."""
    with gc_paused():
        return _index_chunk_locked(conn, path, stats)


def _index_chunk_locked(conn: sqlite3.Connection, path: Path, stats: IndexStats) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT offset, line FROM segments WHERE name = ?", (path.name,)
        ).fetchone()
        offset, line_no = row if row else (0, 0)
        spans: list[SpanRecord] = []
        more = False
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < offset:
                logger.warning(
                    "%s is shorter than its indexed offset; run 'otelfeedback store reindex'", path
                )
            handle.seek(offset)
            read = 0
            while True:
                raw = handle.readline()
                if not raw.endswith(b"\n"):
                    break  # end of file, or a line still being written
                offset += len(raw)
                read += len(raw)
                line_no += 1
                stats.lines += 1
                if raw.strip():
                    _decode_line(raw, path, line_no, spans, stats)
                if len(spans) >= CHUNK_SPANS or read >= CHUNK_BYTES:
                    more = True
                    break
        added, records = chunk.store(conn, spans)
        stats.spans += added
        stats.records += records
        conn.execute(
            "INSERT INTO segments (name, offset, line) VALUES (?, ?, ?) ON CONFLICT(name) "
            "DO UPDATE SET offset = excluded.offset, line = excluded.line",
            (path.name, offset, line_no),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return more


def _decode_line(
    raw: bytes, path: Path, line_no: int, spans: list[SpanRecord], stats: IndexStats
) -> None:
    try:
        decoded: list[SpanRecord] = list(iter_spans(json.loads(raw)))
    except (ValueError, OTLPDecodeError, RecursionError) as exc:
        stats.skipped_lines += 1
        logger.warning("skipping corrupt line %d of %s: %s", line_no, path, str(exc)[:200])
        return
    spans.extend(decoded)
