"""Bring the SQLite index up to date with the OTLP/JSON segments, incrementally.

Each segment's indexed byte offset (and line count) is stored with the rows it produced, in
the same transaction, so the index is exactly "the first N complete lines of each segment"
at any moment, whoever (which process) indexed them. A last line without a newline is not
consumed yet (its writer is still writing it). A line that does not decode is skipped with a
warning naming the file and the line; the rest is indexed.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.assessments.resolve import resolve_records
from otelfeedback.assessments.wire import AssessmentRecord, decode_record, is_record
from otelfeedback.export.file_store import list_segments as _list_segments
from otelfeedback.store import bulk
from otelfeedback.store import rows as r
from otelfeedback.store.otlp_decode import DecodedSpan, OTLPDecodeError, iter_spans
from otelfeedback.store.schema import CLEAR_STATEMENTS

logger = logging.getLogger("otelfeedback.store")

#: Spans per write transaction: bounds memory whatever the store's size.
CHUNK_SPANS = 20000
CHUNK_BYTES = 32 * 1024 * 1024

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@dataclass
class IndexStats:
    lines: int = 0
    spans: int = 0
    records: int = 0
    skipped_lines: int = 0


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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a chunk is decoded and stored.

    A chunk allocates a few million short-lived containers (decoded JSON) and keeps up to
    ``CHUNK_SPANS`` spans alive, which makes the collector run full collections over them
    again and again (about a tenth of the indexing time); none of it forms cycles, so
    reference counting frees it all. Nested and concurrent pauses are counted; the
    collector's previous state is restored when the last one ends."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def _index_chunk(conn: sqlite3.Connection, path: Path, stats: IndexStats) -> bool:
    """Index up to one chunk of ``path`` in one transaction. Returns whether there may be
    more complete lines after it."""
    with _gc_paused():
        return _index_chunk_locked(conn, path, stats)


def _index_chunk_locked(conn: sqlite3.Connection, path: Path, stats: IndexStats) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT offset, line FROM segments WHERE name = ?", (path.name,)
        ).fetchone()
        offset, line_no = row if row else (0, 0)
        spans: list[DecodedSpan] = []
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
        _store(conn, spans, stats)
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
    raw: bytes, path: Path, line_no: int, spans: list[DecodedSpan], stats: IndexStats
) -> None:
    try:
        decoded = list(iter_spans(json.loads(raw)))
    except (ValueError, OTLPDecodeError, RecursionError) as exc:
        stats.skipped_lines += 1
        logger.warning("skipping corrupt line %d of %s: %s", line_no, path, str(exc)[:200])
        return
    spans.extend(decoded)


def _records_of(span: DecodedSpan) -> tuple[list[AssessmentRecord], bool]:
    """Assessment records carried by a span, and whether the span is a carrier (only)."""
    records = []
    carrier = is_record(span.attributes)
    try:
        if carrier:
            records.append(decode_record(span.attributes, span.start_ns, span.span_id))
        for i, event in enumerate(span.events):
            if is_record(event.attributes):
                records.append(
                    decode_record(event.attributes, event.time_ns, f"{span.span_id}:{i}")
                )
    except (ValueError, TypeError) as exc:
        logger.warning("skipping malformed assessment record in span %s: %s", span.span_id, exc)
    return records, carrier


def _store(conn: sqlite3.Connection, spans: list[DecodedSpan], stats: IndexStats) -> None:
    record_rows: list[tuple[str, str, int, str]] = []
    # trace id -> span id -> span; a span exported twice is indexed once (the first copy).
    fresh: dict[str, dict[str, DecodedSpan]] = {}
    for span in spans:
        if span.events or sc.ASSESSMENT_ID in span.attributes:
            records, carrier = _records_of(span)
            for rec in records:
                record_rows.append(
                    (
                        rec.key,
                        rec.trace_id,
                        rec.time_ns,
                        json.dumps({"operation": rec.operation, "fields": rec.fields}),
                    )
                )
            if carrier:
                continue
        of_trace = fresh.get(span.trace_id)
        if of_trace is None:
            of_trace = fresh[span.trace_id] = {}
        of_trace.setdefault(span.span_id, span)
    if fresh:
        stats.spans += _store_spans(conn, fresh)
    if record_rows:
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO assessment_records VALUES (?, ?, ?, ?)", record_rows
        )
        stats.records += conn.total_changes - before
        refresh_assessments(conn, {row[1] for row in record_rows})


@dataclass
class _Rows:
    """The rows one chunk adds, table by table."""

    spans: list[tuple[Any, ...]] = field(default_factory=list)
    attrs: list[r.AttrRow] = field(default_factory=list)
    texts: list[tuple[int, str]] = field(default_factory=list)
    traces: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    metadata: list[tuple[Any, ...]] = field(default_factory=list)


def _store_spans(conn: sqlite3.Connection, fresh: dict[str, dict[str, DecodedSpan]]) -> int:
    """Insert the new spans of a chunk and recompute the summaries of their traces. Returns
    the number of spans inserted."""
    known = _known_traces(conn, list(fresh))
    stored = _stored_summaries(conn, list(known.values()))
    (next_id,) = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM traces").fetchone()
    out = _Rows()
    refreshed: list[int] = []  # known traces whose summary is replaced
    span_rows = r.span_rows
    for trace_id, chunk_spans in fresh.items():
        tid = known.get(trace_id)
        new = list(chunk_spans.values())
        if tid is None:
            tid, next_id = next_id, next_id + 1
            summaries: list[tuple[Any, ...]] = []
        else:
            summaries = stored.get(tid, [])
            have = {s[1] for s in summaries}
            new = [span for span in new if span.span_id not in have]
            if not new:
                continue
            refreshed.append(tid)
        texts: dict[str, None] = {}
        for span in new:
            row, attrs, parts = span_rows(span, tid)
            out.spans.append(row)
            summaries.append(row)
            out.attrs.extend(attrs)
            for text in parts:
                texts[text] = None
        if texts:
            # Each distinct input/output once per trace and chunk (a root's input is often
            # its LLM span's input too).
            out.texts.append((tid, "\n".join(texts)))
        summaries.sort(key=_start_ns)
        summaries = _with_root_previews(conn, summaries, chunk_spans)
        row, tags, metadata = r.trace_row(trace_id, summaries)
        out.traces.append((tid, *row))
        out.tags.extend((tid, k, *r.kv_values(v)) for k, v in tags.items())
        out.metadata.extend((tid, k, *r.kv_values(v)) for k, v in metadata.items())
    if out.spans:
        _insert(conn, out, refreshed)
    return len(out.spans)


def _insert(conn: sqlite3.Connection, out: _Rows, known: list[int]) -> None:
    if known:
        old = [(tid,) for tid in known]
        conn.executemany("DELETE FROM trace_tags WHERE tid = ?", old)
        conn.executemany("DELETE FROM trace_metadata WHERE tid = ?", old)
    # New traces are inserted, known ones replaced (same key): REPLACE costs more.
    marks = ", ".join("?" * 19)
    known_ids = set(known)
    conn.executemany(
        f"INSERT INTO traces VALUES ({marks})", [t for t in out.traces if t[0] not in known_ids]
    )
    conn.executemany(
        f"INSERT OR REPLACE INTO traces VALUES ({marks})",
        [t for t in out.traces if t[0] in known_ids],
    )
    conn.executemany(f"INSERT OR IGNORE INTO spans VALUES ({', '.join('?' * 18)})", out.spans)
    conn.executemany("INSERT OR IGNORE INTO span_attrs VALUES (?, ?, ?, ?)", out.attrs)
    conn.executemany("INSERT INTO trace_tags VALUES (?, ?, ?, ?)", out.tags)
    conn.executemany("INSERT INTO trace_metadata VALUES (?, ?, ?, ?)", out.metadata)
    if out.texts:
        (first,) = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM trace_text").fetchone()
        conn.executemany("INSERT INTO trace_text (tid, body) VALUES (?, ?)", out.texts)
        conn.execute(
            "INSERT INTO trace_fts (rowid, body) SELECT id, body FROM trace_text WHERE id >= ?",
            (first,),
        )


def _start_ns(row: tuple[Any, ...]) -> Any:
    return row[6]


def _known_traces(conn: sqlite3.Connection, trace_ids: list[str]) -> dict[str, int]:
    """The integer keys of the traces already in the index, by trace id."""
    found: dict[str, int] = {}
    for start in range(0, len(trace_ids), 500):
        batch = trace_ids[start : start + 500]
        marks = ", ".join("?" * len(batch))
        found.update(
            conn.execute(f"SELECT trace_id, id FROM traces WHERE trace_id IN ({marks})", batch)
        )
    return found


def _stored_summaries(
    conn: sqlite3.Connection, tids: list[int]
) -> dict[int, list[tuple[Any, ...]]]:
    """The span rows (``rows.SUMMARY_COLUMNS``) of stored traces, by trace key."""
    result: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for start in range(0, len(tids), 500):
        batch = tids[start : start + 500]
        marks = ", ".join("?" * len(batch))
        for row in conn.execute(
            f"SELECT {r.SUMMARY_COLUMNS} FROM spans WHERE tid IN ({marks}) "
            "ORDER BY tid, start_ns, rowid",
            batch,
        ):
            result[row[0]].append(row)
    return result


def _with_root_previews(
    conn: sqlite3.Connection,
    summaries: list[tuple[Any, ...]],
    chunk_spans: dict[str, DecodedSpan],
) -> list[tuple[Any, ...]]:
    """Fill in the previews of a root that has a parent (the root lives in another service):
    span rows carry previews for parentless spans only."""
    root = r.root_of(summaries)
    if root[2] is None:
        return summaries
    span = chunk_spans.get(root[1])
    if span is not None:
        previews = r.previews(span.attributes)
    else:
        found = conn.execute(
            "SELECT data FROM spans WHERE tid = ? AND span_id = ?", (root[0], root[1])
        ).fetchone()
        previews = r.previews_from_data(found[0]) if found else (None, None)
    return [(*s[:15], *previews, *s[17:]) if s is root else s for s in summaries]


def refresh_assessments(conn: sqlite3.Connection, trace_ids: Iterable[str]) -> None:
    """Re-resolve the assessments of these traces from their records (500 traces per
    statement)."""
    ids = sorted(trace_ids)
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ", ".join("?" * len(batch))
        conn.execute(f"DELETE FROM assessments WHERE trace_id IN ({marks})", batch)
        records: dict[str, list[AssessmentRecord]] = defaultdict(list)
        for trace_id, key, time_ns, record in conn.execute(
            f"SELECT trace_id, key, time_ns, record FROM assessment_records "
            f"WHERE trace_id IN ({marks}) ORDER BY trace_id, time_ns, rowid",
            batch,
        ):
            data = json.loads(record)
            records[trace_id].append(
                AssessmentRecord(data["operation"], data["fields"], time_ns, key)
            )
        rows = []
        for trace_id, of_trace in records.items():
            for a in resolve_records(of_trace):
                text, number = r.kv_values(a["value"])
                rows.append(
                    (
                        a["assessment_id"],
                        trace_id,
                        a["span_id"],
                        a["name"],
                        a["kind"],
                        1 if a["valid"] else 0,
                        text,
                        number,
                        a["create_time_ms"],
                        json.dumps(a, ensure_ascii=False),
                    )
                )
        conn.executemany(
            "INSERT OR REPLACE INTO assessments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
