"""Store one chunk of decoded spans: index rows, trace summaries and assessments.

Spans are grouped by trace. The traces already indexed are looked up once per 500 (their
integer keys and span summaries), new traces get the next keys, every row is built in memory
and inserted table by table with ``executemany``, in the caller's transaction. A span that
was indexed before (exported twice) is skipped; a trace's summary is recomputed from all its
spans.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback._internal.otlp_json.decode import SpanRecord
from otelfeedback.assessments.resolve import resolve_records
from otelfeedback.assessments.wire import AssessmentRecord, decode_record, is_record
from otelfeedback.store import rows as r

logger = logging.getLogger("otelfeedback.store")


def _records_of(span: SpanRecord) -> tuple[list[AssessmentRecord], bool]:
    """Assessment records carried by a span, and whether the span is a carrier (only)."""
    records = []
    carrier = is_record(span.attributes)
    try:
        if carrier:
            records.append(decode_record(span.attributes, span.start_time_ns, span.span_id))
        for i, event in enumerate(span.events):
            if is_record(event.attributes):
                records.append(
                    decode_record(event.attributes, event.timestamp_ns, f"{span.span_id}:{i}")
                )
    except (ValueError, TypeError, RecursionError) as exc:
        logger.warning("skipping malformed assessment record in span %s: %s", span.span_id, exc)
    return records, carrier


#: An ``assessment_records`` row: key, trace id, time (ns), the record as JSON.
RecordRow = tuple[str, str, int, str]


def split(spans: Iterable[SpanRecord]) -> tuple[list[RecordRow], dict[str, dict[str, SpanRecord]]]:
    """Sort decoded spans into assessment record rows and the spans proper, by trace and
    span id (a span exported twice is kept once: the first copy). Carrier spans are records
    only. Every store takes spans through this."""
    record_rows: list[RecordRow] = []
    fresh: dict[str, dict[str, SpanRecord]] = {}
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
    return record_rows, fresh


def store(conn: sqlite3.Connection, spans: list[SpanRecord]) -> tuple[int, int]:
    """Store a chunk of decoded spans (in the caller's transaction). Returns the numbers of
    spans and of assessment records added."""
    record_rows, fresh = split(spans)
    added = _store_spans(conn, fresh) if fresh else 0
    added_records = 0
    if record_rows:
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO assessment_records VALUES (?, ?, ?, ?)", record_rows
        )
        added_records = conn.total_changes - before
        refresh_assessments(conn, {row[1] for row in record_rows})
    return added, added_records


@dataclass
class _Rows:
    """The rows one chunk adds, table by table."""

    spans: list[tuple[Any, ...]] = field(default_factory=list)
    attrs: list[r.AttrRow] = field(default_factory=list)
    texts: list[tuple[int, str]] = field(default_factory=list)
    traces: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    metadata: list[tuple[Any, ...]] = field(default_factory=list)


def _store_spans(conn: sqlite3.Connection, fresh: dict[str, dict[str, SpanRecord]]) -> int:
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
            out.texts.append((tid, "\n".join(texts) + r.TEXT_END))
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
    chunk_spans: dict[str, SpanRecord],
) -> list[tuple[Any, ...]]:
    def stored_data(tid: int, span_id: str) -> str | None:
        found = conn.execute(
            "SELECT data FROM spans WHERE tid = ? AND span_id = ?", (tid, span_id)
        ).fetchone()
        return None if found is None else str(found[0])

    return with_root_previews(summaries, chunk_spans, stored_data)


def with_root_previews(
    summaries: list[tuple[Any, ...]],
    chunk_spans: dict[str, SpanRecord],
    stored_data: Callable[[Any, str], str | None],
) -> list[tuple[Any, ...]]:
    """Fill in the previews of a root that has a parent (the root lives in another service):
    span rows carry previews for parentless spans only. ``stored_data(tid, span_id)`` reads
    a stored span's ``data`` column when the root is not in this chunk."""
    root = r.root_of(summaries)
    if root[2] is None:
        return summaries
    span = chunk_spans.get(root[1])
    if span is not None:
        previews = r.previews(span.attributes)
    else:
        found = stored_data(root[0], root[1])
        previews = r.previews_from_data(found) if found else (None, None)
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
            records[trace_id].append(stored_record(key, time_ns, record))
        rows = assessment_rows(records)
        conn.executemany(
            "INSERT OR REPLACE INTO assessments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )


def stored_record(key: str, time_ns: int, record: str) -> AssessmentRecord:
    """An assessment record from its ``assessment_records`` row (``RecordRow``)."""
    data = json.loads(record)
    return AssessmentRecord(data["operation"], data["fields"], time_ns, key)


#: An ``assessments`` row (``schema.py``): id, trace id, span id, name, kind, valid, value as
#: text and as a number, creation time, the resolved assessment as JSON.
AssessmentRow = tuple[str, str, Any, str, str, int, Any, Any, Any, str]


def assessment_rows(records: dict[str, list[AssessmentRecord]]) -> list[AssessmentRow]:
    """The ``assessments`` rows of traces, resolved from their records (in log order)."""
    rows: list[AssessmentRow] = []
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
    return rows
