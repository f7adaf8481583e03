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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otelfeedback.assessments.resolve import resolve_records
from otelfeedback.assessments.wire import AssessmentRecord, decode_record, is_record
from otelfeedback.export.file_store import list_segments as _list_segments
from otelfeedback.store import rows as r
from otelfeedback.store.otlp_decode import DecodedSpan, OTLPDecodeError, iter_spans
from otelfeedback.store.schema import DERIVED_TABLES

logger = logging.getLogger("otelfeedback.store")

#: Spans per write transaction: bounds memory whatever the store's size.
CHUNK_SPANS = 20000
CHUNK_BYTES = 32 * 1024 * 1024


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
    """Index every complete line not indexed yet."""
    stats = IndexStats()
    for path, _ in pending(conn, traces_dir):
        while _index_chunk(conn, path, stats):
            pass
    return stats


def clear(conn: sqlite3.Connection) -> None:
    """Empty every derived table (the next ``update`` reads everything again)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in DERIVED_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _index_chunk(conn: sqlite3.Connection, path: Path, stats: IndexStats) -> bool:
    """Index up to one chunk of ``path`` in one transaction. Returns whether there may be
    more complete lines after it."""
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
    span_rows: list[tuple[Any, ...]] = []
    attr_rows: list[tuple[Any, ...]] = []
    texts: dict[str, dict[str, None]] = defaultdict(dict)
    record_rows: list[tuple[str, str, int, str]] = []
    touched: set[str] = set()
    # A span exported twice is indexed once (the first copy).
    seen_before = _existing_spans(conn, {s.trace_id for s in spans})
    seen = set(seen_before)
    for span in spans:
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
        if carrier or (span.trace_id, span.span_id) in seen:
            continue
        seen.add((span.trace_id, span.span_id))
        rows = r.span_rows(span)
        span_rows.append(rows.span)
        attr_rows.extend(rows.attrs)
        for text in rows.texts:
            texts[span.trace_id][text] = None
        touched.add(span.trace_id)
    if span_rows:
        conn.executemany(f"INSERT OR IGNORE INTO spans VALUES ({', '.join('?' * 18)})", span_rows)
        conn.executemany("INSERT INTO span_attrs VALUES (?, ?, ?, ?, ?)", attr_rows)
        # Full text: one row per trace and chunk, each distinct input/output once (a root's
        # input is often its LLM span's input too).
        conn.executemany(
            "INSERT INTO span_text (trace_id, body) VALUES (?, ?)",
            [(trace_id, "\n".join(parts)) for trace_id, parts in texts.items()],
        )
        _refresh_traces(conn, touched, span_rows, {t for t, _ in seen_before})
    if record_rows:
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO assessment_records VALUES (?, ?, ?, ?)", record_rows
        )
        stats.records += conn.total_changes - before
        refresh_assessments(conn, {row[1] for row in record_rows})
    stats.spans += len(span_rows)


def _existing_spans(conn: sqlite3.Connection, trace_ids: set[str]) -> set[tuple[str, str]]:
    """(trace_id, span_id) of the spans of these traces already in the index."""
    ids = sorted(trace_ids)
    found: set[tuple[str, str]] = set()
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ", ".join("?" * len(batch))
        found.update(
            conn.execute(f"SELECT trace_id, span_id FROM spans WHERE trace_id IN ({marks})", batch)
        )
    return found


def _refresh_traces(
    conn: sqlite3.Connection,
    trace_ids: Iterable[str],
    new_rows: list[tuple[Any, ...]],
    stored_before: set[str],
) -> None:
    """Recompute the summary rows of ``trace_ids``: from ``new_rows`` (this chunk's span
    rows) for traces first seen in this chunk, from the index for the others."""
    by_trace: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in new_rows:
        if row[0] not in stored_before:
            by_trace[row[0]].append(row[r.SUMMARY_SLICE])
    for summaries in by_trace.values():
        summaries.sort(key=lambda s: s[5])
    ids = sorted(t for t in trace_ids if t in stored_before)
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ", ".join("?" * len(batch))
        for row in conn.execute(
            f"SELECT trace_id, {r.SUMMARY_COLUMNS} FROM spans WHERE trace_id IN ({marks}) "
            "ORDER BY trace_id, start_ns",
            batch,
        ):
            by_trace[row[0]].append(row[1:])
    trace_rows: list[tuple[Any, ...]] = []
    tag_rows: list[tuple[Any, ...]] = []
    meta_rows: list[tuple[Any, ...]] = []
    for trace_id, summaries in by_trace.items():
        row, tags, metadata = r.trace_row(trace_id, summaries)
        trace_rows.append(row)
        tag_rows.extend((trace_id, k, *r.kv_values(v)) for k, v in tags.items())
        meta_rows.extend((trace_id, k, *r.kv_values(v)) for k, v in metadata.items())
    for table in ("trace_tags", "trace_metadata"):
        conn.executemany(f"DELETE FROM {table} WHERE trace_id = ?", [(t,) for t in by_trace])
    conn.executemany(f"INSERT OR REPLACE INTO traces VALUES ({', '.join('?' * 18)})", trace_rows)
    conn.executemany("INSERT INTO trace_tags VALUES (?, ?, ?, ?)", tag_rows)
    conn.executemany("INSERT INTO trace_metadata VALUES (?, ?, ?, ?)", meta_rows)


def load_records(conn: sqlite3.Connection, trace_id: str) -> list[AssessmentRecord]:
    """A trace's assessment records in log order."""
    result = []
    for key, time_ns, record in conn.execute(
        "SELECT key, time_ns, record FROM assessment_records WHERE trace_id = ? "
        "ORDER BY time_ns, rowid",
        (trace_id,),
    ):
        data = json.loads(record)
        result.append(AssessmentRecord(data["operation"], data["fields"], time_ns, key))
    return result


def refresh_assessments(conn: sqlite3.Connection, trace_ids: Iterable[str]) -> None:
    """Re-resolve the assessments of these traces from their records."""
    for trace_id in trace_ids:
        conn.execute("DELETE FROM assessments WHERE trace_id = ?", (trace_id,))
        rows = []
        for a in resolve_records(load_records(conn, trace_id)):
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
