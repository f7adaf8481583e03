"""Write decoded spans to the PostgreSQL store: one transaction per batch, multi-row
inserts, idempotent on trace id + span id, safe with several writers (server processes,
hosts) at once.

The transaction first takes an advisory lock per trace it touches (in one order, so two
writers never deadlock on them), then reads what is stored of those traces: a span stored
before is skipped, a trace's summary is recomputed over all its spans, exactly as the file
store's indexer does (``store/chunk.py``, ``store/rows.py``), and assessment records are
added to the append-only log and resolved again (``assessments/resolve.py``). Rows go in
with one ``COPY`` per table (rows of traces stored before: one ``INSERT ... SELECT FROM
unnest(...) ON CONFLICT`` per table).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from otelfeedback._internal.otlp_json.decode import SpanRecord
from otelfeedback.assessments.wire import AssessmentRecord
from otelfeedback.store import chunk
from otelfeedback.store import rows as r
from otelfeedback.store.sql import text as pg
from otelfeedback.store.sql.partitions import PRUNE_LOCK

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: UTF-8 bytes a ``span_attrs`` row's key and value may take together (a B-tree entry
#: holds about 2,700); longer pairs are not filterable, as over-long values are not.
MAX_ATTR_BYTES = 2000

_SPAN_COLUMNS = (
    "tid, span_id, parent_span_id, name, span_type, status, start_ns, end_ns, input_tokens, "
    "output_tokens, service_name, session_id, user_id, tags, metadata, request_preview, "
    "response_preview, data, ord"
)
_SPAN_TYPES = (
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "text",
    "bigint",
    "bigint",
    "bigint",
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "integer",
)
_TRACE_COLUMNS = (
    "id, trace_id, name, status, start_ms, end_ms, execution_time_ms, service_name, "
    "session_id, user_id, input_tokens, output_tokens, total_tokens, span_count, "
    "root_span_id, request_preview, response_preview, tags, metadata"
)
_TRACE_TYPES = (
    "bigint",
    "text",
    "text",
    "text",
    "bigint",
    "bigint",
    "double precision",
    "text",
    "text",
    "text",
    "bigint",
    "bigint",
    "bigint",
    "integer",
    "text",
    "text",
    "text",
    "text",
    "text",
)
_KV_TYPES = ("bigint", "text", "text", "double precision")


@dataclass
class Ingested:
    spans: int = 0
    records: int = 0
    #: The largest trace key handed out (0: none), for making partitions ahead.
    max_key: int = 0


@dataclass
class _Rows:
    spans: list[tuple[Any, ...]] = field(default_factory=list)
    attrs: dict[tuple[str, str, int], float | None] = field(default_factory=dict)
    texts: list[tuple[int, str]] = field(default_factory=list)
    traces: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    metadata: list[tuple[Any, ...]] = field(default_factory=list)


def lock_key(trace_id: str) -> int:
    """The advisory lock key of a trace (a signed 64-bit hash of its id)."""
    digest = hashlib.blake2b(trace_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def ingest(conn: Any, spans: Iterable[SpanRecord]) -> Ingested:
    """Store ``spans`` (and the assessment records they carry) in one transaction on
    ``conn`` (autocommit mode). Returns what was added."""
    record_rows, fresh = chunk.split(spans)
    done = Ingested()
    if not record_rows and not fresh:
        return done
    keys = sorted({lock_key(t) for t in fresh} | {lock_key(row[1]) for row in record_rows})
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock_shared(%s), "
            "(SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k)",
            (PRUNE_LOCK, keys),
        )
        if fresh:
            done.spans, done.max_key = _store_spans(conn, fresh)
        if record_rows:
            done.records = _store_records(conn, record_rows)
    return done


def _store_spans(conn: Any, fresh: dict[str, dict[str, SpanRecord]]) -> tuple[int, int]:
    known = dict(
        conn.execute(
            "SELECT trace_id, id FROM traces WHERE trace_id = ANY(%s)", (list(fresh),)
        ).fetchall()
    )
    new_ids = [t for t in fresh if t not in known]
    new_keys = (
        [
            row[0]
            for row in conn.execute(
                "SELECT nextval('trace_keys') FROM generate_series(1, %s)", (len(new_ids),)
            )
        ]
        if new_ids
        else []
    )
    keys = {**known, **dict(zip(new_ids, new_keys))}
    stored: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    if known:
        for row in conn.execute(
            f"SELECT {r.SUMMARY_COLUMNS} FROM spans WHERE tid = ANY(%s) "
            "ORDER BY tid, start_ns, ord",
            (list(known.values()),),
        ):
            stored[row[0]].append(row)
    out = _Rows()
    replaced: list[int] = []

    def stored_data(tid: int, span_id: str) -> str | None:
        found = conn.execute(
            "SELECT data FROM spans WHERE tid = %s AND span_id = %s", (tid, span_id)
        ).fetchone()
        return None if found is None else str(found[0])

    for trace_id, chunk_spans in fresh.items():
        tid = keys[trace_id]
        summaries = stored.get(tid, [])
        have = {s[1] for s in summaries}
        new = [span for span in chunk_spans.values() if span.span_id not in have]
        if not new:
            continue
        if summaries:
            replaced.append(tid)
        texts: dict[str, None] = {}
        ordinal = len(summaries)
        summaries = list(summaries)
        for span in new:
            row, attrs, parts = r.span_rows(span, tid)
            row = _span_row(row, span, ordinal)
            ordinal += 1
            out.spans.append(row)
            summaries.append(row)
            for key, value, _, number in attrs:
                _add_attr(out.attrs, key, value, tid, number)
            for part in parts:
                texts[part] = None
        if texts:
            out.texts.append((tid, pg.search_text("\n".join(texts))))
        summaries.sort(key=_start_ns)  # stable: stored spans first, in arrival order
        summaries = chunk.with_root_previews(summaries, chunk_spans, stored_data)
        trace, tags, metadata = r.trace_row(trace_id, summaries)
        out.traces.append(_trace_row(tid, trace))
        out.tags.extend(_kv_rows(tid, tags))
        out.metadata.extend(_kv_rows(tid, metadata))
    if out.spans:
        _insert(conn, out, replaced)
    return len(out.spans), max(new_keys, default=0)


def _insert(conn: Any, out: _Rows, replaced: list[int]) -> None:
    """New rows go in with ``COPY`` (nothing of them is stored: the trace locks are held);
    the summaries and attributes of traces stored before are upserted."""
    known = set(replaced)
    if replaced:
        conn.execute("DELETE FROM trace_tags WHERE tid = ANY(%s)", (replaced,))
        conn.execute("DELETE FROM trace_metadata WHERE tid = ANY(%s)", (replaced,))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _TRACE_COLUMNS.split(", ")[1:])
        insert_rows(
            conn,
            "traces",
            _TRACE_COLUMNS,
            _TRACE_TYPES,
            [row for row in out.traces if row[0] in known],
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
        )
        insert_rows(
            conn,
            "span_attrs",
            "key, value_text, tid, value_num",
            ("text", "text", "bigint", "double precision"),
            [(k, v, tid, n) for (k, v, tid), n in out.attrs.items() if tid in known],
            "ON CONFLICT DO NOTHING",
        )
    copy_rows(conn, "traces", _TRACE_COLUMNS, [row for row in out.traces if row[0] not in known])
    copy_rows(conn, "spans", _SPAN_COLUMNS, out.spans)
    copy_rows(
        conn,
        "span_attrs",
        "key, value_text, tid, value_num",
        [(k, v, tid, n) for (k, v, tid), n in out.attrs.items() if tid not in known],
    )
    copy_rows(conn, "trace_tags", "tid, key, value_text, value_num", out.tags)
    copy_rows(conn, "trace_metadata", "tid, key, value_text, value_num", out.metadata)
    copy_rows(conn, "trace_text", "tid, body", out.texts)


def copy_rows(conn: Any, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` with ``COPY`` (the fastest way in: one stream, no per-row parsing)."""
    if not rows:
        return
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(
    conn: Any,
    table: str,
    columns: str,
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    suffix: str = "",
) -> int:
    """Insert ``rows`` with one statement (one array parameter per column). Returns the
    number of rows inserted."""
    if not rows:
        return 0
    arrays = [list(column) for column in zip(*rows)]
    unnest = ", ".join(f"%s::{t}[]" for t in types)
    cur = conn.execute(
        f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({unnest}) {suffix}", arrays
    )
    return int(cur.rowcount)


def _clamp(value: int) -> int:
    return INT64_MIN if value < INT64_MIN else (INT64_MAX if value > INT64_MAX else value)


def _span_row(row: tuple[Any, ...], span: SpanRecord, ordinal: int) -> tuple[Any, ...]:
    """A ``rows.span_rows`` row as PostgreSQL stores it (``text.py``), with its ordinal.
    Values a column cannot hold exactly (a long name, a time past 64 bits) go into ``data``
    too, where loading takes them from (``store/reading.py``)."""
    (tid, span_id, parent, name, span_type, status, start, end, tokens_in, tokens_out) = row[:10]
    service, session, user, tags, metadata, request, response, data = row[10:]
    exact: dict[str, Any] = {}
    name_column = pg.indexed(name)
    if name_column != name:
        exact["name"] = name
    start_column, end_column = _clamp(start), _clamp(end)
    if start_column != start:
        exact["start_ns"] = start
    if end_column != end:
        exact["end_ns"] = end
    if exact:
        data = data[:-1] + "," + r.compact_encoder()(exact)[1:]
    return (
        tid,
        pg.column(span_id),
        pg.optional(parent),
        name_column,
        pg.indexed(span_type),
        status,
        start_column,
        end_column,
        _clamp(tokens_in),
        _clamp(tokens_out),
        pg.indexed(service),
        pg.indexed(session),
        pg.indexed(user),
        None if tags is None else pg.json_column(tags),
        None if metadata is None else pg.json_column(metadata),
        pg.optional(request),
        pg.optional(response),
        pg.json_column(data),
        ordinal,
    )


def _trace_row(tid: int, row: tuple[Any, ...]) -> tuple[Any, ...]:
    (trace_id, name, status, start_ms, end_ms, duration, service, session, user) = row[:9]
    (tokens_in, tokens_out, tokens, count, root, request, response, tags, metadata) = row[9:]
    return (
        tid,
        trace_id,
        pg.indexed(name),
        status,
        _clamp(start_ms),
        _clamp(end_ms),
        duration,
        pg.indexed(service),
        pg.indexed(session),
        pg.indexed(user),
        _clamp(tokens_in),
        _clamp(tokens_out),
        _clamp(tokens),
        count,
        root,
        pg.optional(request),
        pg.optional(response),
        pg.json_column(tags),
        pg.json_column(metadata),
    )


def _start_ns(row: tuple[Any, ...]) -> Any:
    return row[6]


def _kv_rows(tid: int, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    """``trace_tags`` / ``trace_metadata`` rows (one per key as stored: keys cut to the
    same first characters are one)."""
    rows: dict[str | None, tuple[Any, ...]] = {}
    for key, value in values.items():
        text, number = r.kv_values(value)
        column = pg.indexed(key)
        rows[column] = (tid, column, pg.indexed(text), number)
    return list(rows.values())


def _add_attr(
    attrs: dict[tuple[str, str, int], float | None],
    key: str,
    value: str,
    tid: int,
    number: float | None,
) -> None:
    key, value = pg.column(key), pg.column(value)
    if len(key) + len(value) > MAX_ATTR_BYTES // 4 and (
        len(key.encode()) + len(value.encode()) > MAX_ATTR_BYTES
    ):
        return
    attrs.setdefault((key, value, tid), number)


# -- assessments -----------------------------------------------------------------------------
def _store_records(conn: Any, record_rows: list[chunk.RecordRow]) -> int:
    rows = [
        (pg.column(k), pg.column(t), _clamp(ns), pg.json_column(rec))
        for k, t, ns, rec in record_rows
    ]
    added = conn.execute(
        "INSERT INTO assessment_records (key, trace_id, time_ns, record) "
        "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[]) "
        "ON CONFLICT (key) DO NOTHING RETURNING trace_id",
        [list(c) for c in zip(*rows)],
    ).fetchall()
    refresh_assessments(conn, {row[0] for row in added})
    return len(added)


def refresh_assessments(conn: Any, trace_ids: Iterable[str]) -> None:
    """Resolve the assessments of these traces again from their records."""
    ids = sorted(trace_ids)
    if not ids:
        return
    records: dict[str, list[AssessmentRecord]] = defaultdict(list)
    for trace_id, key, time_ns, record in conn.execute(
        "SELECT trace_id, key, time_ns, record FROM assessment_records "
        "WHERE trace_id = ANY(%s) ORDER BY trace_id, time_ns, seq",
        (ids,),
    ):
        records[trace_id].append(chunk.stored_record(key, time_ns, record))
    conn.execute("DELETE FROM assessments WHERE trace_id = ANY(%s)", (ids,))
    # One row per assessment id (a later one replaces an earlier, as SQLite's REPLACE).
    rows = {
        row[0]: (
            pg.indexed(row[0]),
            row[1],
            pg.optional(row[2]),
            pg.indexed(row[3]),
            pg.indexed(row[4]),
            row[5],
            pg.indexed(row[6]),
            row[7],
            row[8] if row[8] is None else _clamp(int(row[8])),
            pg.json_column(row[9]),
        )
        for row in chunk.assessment_rows(records)
    }
    columns = (
        "assessment_id, trace_id, span_id, name, kind, valid, value_text, value_num, "
        "create_time_ms, data"
    )
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns.split(", ")[1:])
    insert_rows(
        conn,
        "assessments",
        columns,
        (
            "text",
            "text",
            "text",
            "text",
            "text",
            "integer",
            "text",
            "double precision",
            "bigint",
            "text",
        ),
        list(rows.values()),
        f"ON CONFLICT (assessment_id) DO UPDATE SET {updates}",
    )
