"""The file store: OTLP/JSON segments under ``<dir>/traces/``, records that are not spans
under ``<dir>/records/`` (``store/records.py``), and a derived SQLite index of both.

>>> store = FileStore("./otelfeedback-data")            # doctest: +SKIP
>>> store.search_traces("feedback.user_feedback = false")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from otelfeedback import config
from otelfeedback._internal.otlp_json.segments import SegmentWriter
from otelfeedback.assessments.entities import Expectation, Feedback, assessment_from_dict
from otelfeedback.assessments.placement import Target
from otelfeedback.assessments.wire import AssessmentRecord
from otelfeedback.errors import InvalidArgumentError, NotFoundError
from otelfeedback.semconv import RUN_ID
from otelfeedback.store import indexer, record_index, schema, stats
from otelfeedback.store.base import WRITER_SERVICE_NAME
from otelfeedback.store.carriers import carrier_line
from otelfeedback.store.entities import Span, Trace, TraceInfo
from otelfeedback.store.file_records import FileRecords
from otelfeedback.store.paging import PagedList, decode_token, encode_token, query_fingerprint
from otelfeedback.store.query import SQLiteDialect, compile_filter, parse_filter, parse_order_by

INDEX_FILE = "index.sqlite"
#: Page size of a new index (bytes); an existing index keeps its own.
INDEX_PAGE_SIZE = 8192
TRACES_DIR = "traces"
_INFO_COLUMNS = (
    "id, trace_id, name, service_name, root_span_id, start_ms, execution_time_ms, status, "
    "request_preview, response_preview, tags, metadata, session_id, user_id, input_tokens, "
    "output_tokens, span_count"
)


class FileStore(FileRecords):
    """Read side of a file-store directory, and the write side of its records. Thread-safe;
    several processes may read and append the same directory at once. The index is brought
    up to date on every read."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.traces_dir = self.path / TRACES_DIR
        self.records_dir = self.path / record_index.RECORDS_DIR
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._writer: SegmentWriter | None = None
        self._empty: sqlite3.Connection | None = None
        self._records_writer: SegmentWriter | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.traces_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path / INDEX_FILE,
                isolation_level=None,
                check_same_thread=False,
                timeout=60.0,
            )
            conn.execute(f"PRAGMA page_size={INDEX_PAGE_SIZE}")
            _retry_while_locked(conn, "PRAGMA journal_mode=WAL")
            # The index is derived data: a crash can at worst lose it, and it is rebuilt.
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
            try:
                if schema.migrate(conn):
                    indexer.clear(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if self._empty is not None:
                self._empty.close()
                self._empty = None
            if self._records_writer is not None:
                self._records_writer.close()
                self._records_writer = None

    # -- writes ---------------------------------------------------------------------------
    def segment_writer(self) -> SegmentWriter:
        """The writer of this store's trace segments (the exporter's, multi-process safe)."""
        with self._lock:
            if self._writer is None:
                max_bytes = int(config.resolve("file_max_bytes", None))
                self._writer = SegmentWriter(self.traces_dir, max_bytes)
            return self._writer

    def append_assessment(
        self,
        record: AssessmentRecord,
        target: Target | None,
        *,
        service_name: str = WRITER_SERVICE_NAME,
    ) -> None:
        """Append ``record``'s carrier span to the segments (see ``TraceStore``)."""
        self.segment_writer().append(carrier_line(record, target, service_name))

    def __enter__(self) -> FileStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- index --------------------------------------------------------------------------
    def update_index(self) -> indexer.IndexStats:
        """Index the lines appended since the last read (spans and records)."""
        with self._lock:
            conn = self._connect()
            stats = indexer.update(conn, self.traces_dir)
            return _with_records(stats, record_index.update(conn, self.records_dir))

    def reindex(self) -> indexer.IndexStats:
        """Rebuild the index from the segments (spans and records)."""
        with self._lock:
            conn = self._connect()
            indexer.clear(conn)
            stats = indexer.update(conn, self.traces_dir)
            return _with_records(stats, record_index.update(conn, self.records_dir))

    def _empty_index(self) -> sqlite3.Connection:
        """The read side of a store with nothing written: an empty index in memory."""
        if self._empty is None:
            self._empty = _new_empty_index()
        return self._empty

    def _read(self) -> sqlite3.Connection:
        if self._conn is None and not self.traces_dir.is_dir():
            # Nothing written yet: answer from an empty index in memory; create no files.
            return self._empty_index()
        conn = self._connect()
        indexer.update(conn, self.traces_dir)
        return conn

    # -- reads ----------------------------------------------------------------------------
    def get_trace(self, trace_id: str) -> Trace:
        with self._lock:
            conn = self._read()
            conn.execute("BEGIN")
            try:
                found = conn.execute(
                    "SELECT id FROM traces WHERE trace_id = ?", (trace_id,)
                ).fetchone()
                traces = self._load(conn, [found[0]] if found else [], include_spans=True)
            finally:
                conn.execute("COMMIT")
        if not traces:
            raise NotFoundError(f"trace {trace_id!r} not found in {self.path}")
        return traces[0]

    def search_traces(
        self,
        filter_string: str | None = None,
        max_results: int | None = 100,
        order_by: list[str] | str | None = None,
        page_token: str | None = None,
        run_id: str | None = None,
        include_spans: bool = True,
    ) -> PagedList[Trace]:
        if filter_string is not None and not isinstance(filter_string, str):
            raise InvalidArgumentError("filter_string", "expected a string or None")
        if max_results is not None and (
            isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1
        ):
            raise InvalidArgumentError(
                "max_results", f"expected a positive int or None, got {max_results!r}"
            )
        if run_id is not None and (not isinstance(run_id, str) or not run_id):
            raise InvalidArgumentError("run_id", "expected a non-empty string or None")
        orders = parse_order_by(order_by)
        tree = parse_filter(filter_string or "")
        offset = decode_token(page_token, _fingerprint(filter_string, orders, run_id))
        order_sql = ", ".join(f"t.{o.column} {'DESC' if o.descending else 'ASC'}" for o in orders)
        order_sql += ", t.trace_id DESC" if orders[0].descending else ", t.trace_id ASC"
        limit = -1 if max_results is None else max_results + 1
        with self._lock:
            conn = self._read()
            # One snapshot for planning (full text probes the index), the query and loading.
            conn.execute("BEGIN")
            try:
                where, params = compile_filter(tree, SQLiteDialect(conn))
                if run_id is not None:
                    where, params = _with_run(where, params, run_id)
                sql = (
                    f"SELECT t.id FROM traces t WHERE {where} ORDER BY {order_sql} LIMIT ? OFFSET ?"
                )
                tids = [row[0] for row in conn.execute(sql, [*params, limit, offset])]
                more = max_results is not None and len(tids) > max_results
                tids = tids[:max_results] if max_results is not None else tids
                traces = self._load(conn, tids, include_spans=include_spans)
            finally:
                conn.execute("COMMIT")
        token = (
            self.page_token(offset + len(tids), filter_string, order_by, run_id) if more else None
        )
        return PagedList(traces, token)

    def page_token(
        self,
        offset: int,
        filter_string: str | None = None,
        order_by: list[str] | str | None = None,
        run_id: str | None = None,
    ) -> str | None:
        """The ``page_token`` of the page that starts at ``offset`` (0-based) of this search:
        how a UI links any page (the previous one too), not only the next. None for 0.

        Raises:
            InvalidArgumentError: ``offset`` is negative or ``order_by`` malformed.
        """
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidArgumentError("offset", f"expected an int >= 0, got {offset!r}")
        if offset == 0:
            return None
        return encode_token(offset, _fingerprint(filter_string, parse_order_by(order_by), run_id))

    def trace_stats(
        self,
        filter_string: str | None = None,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        buckets: int = stats.DEFAULT_BUCKETS,
        run_id: str | None = None,
    ) -> stats.TraceStats:
        """Aggregates over the traces ``filter_string`` selects (the search grammar): count,
        errors, latency p50/p95, thumbs up/down among boolean feedback, and the same per
        time bucket of ``[start_ms, end_ms)`` (default: the first to the last trace). A
        full-text condition the index cannot narrow is summarised over its newest
        ``stats.SAMPLE`` matches (``sampled``). ``run_id`` keeps the traces of one run, as
        in ``search_traces``.

        Raises:
            FilterSyntaxError: the filter does not parse.
        """
        tree = parse_filter(filter_string or "")
        with self._lock:
            conn = self._read()
            conn.execute("BEGIN")
            try:
                dialect = SQLiteDialect(conn, aggregate=True)
                where, params = compile_filter(tree, dialect)
                if run_id is not None:
                    where, params = _with_run(where, params, run_id)
                return stats.compute(
                    conn,
                    where,
                    params,
                    start_ms=start_ms,
                    end_ms=end_ms,
                    buckets=buckets,
                    sample=stats.SAMPLE if dialect.walked else None,
                )
            finally:
                conn.execute("COMMIT")

    def first_errors(self, trace_ids: list[str]) -> dict[str, str]:
        """For each of ``trace_ids`` with a failed span (the root or any other): what went
        wrong in the earliest one (its status message, else its first exception)."""
        with self._lock:
            return stats.first_errors(self._read(), list(trace_ids))

    def get_assessment(self, trace_id: str, assessment_id: str) -> Feedback | Expectation:
        with self._lock:
            row = (
                self._read()
                .execute(
                    "SELECT data FROM assessments WHERE trace_id = ? AND assessment_id = ?",
                    (trace_id, assessment_id),
                )
                .fetchone()
            )
        if row is None:
            raise NotFoundError(f"assessment {assessment_id!r} not found on trace {trace_id!r}")
        return assessment_from_dict(json.loads(row[0]))

    def find_root_span_id(self, trace_id: str) -> str | None:
        with self._lock:
            row = (
                self._read()
                .execute("SELECT root_span_id FROM traces WHERE trace_id = ?", (trace_id,))
                .fetchone()
            )
        return None if row is None else str(row[0])

    def assessment_names(self) -> list[tuple[str, str]]:
        """Every ``(kind, name)`` of a valid assessment in the store, from the index alone:
        one seek per distinct name (a loose scan of the ``(name, kind, valid)`` index)."""
        with self._lock:
            conn = self._read()
            names = [
                row[0]
                for row in conn.execute(
                    "WITH RECURSIVE n(name) AS (SELECT MIN(name) FROM assessments UNION ALL "
                    "SELECT (SELECT MIN(name) FROM assessments WHERE name > n.name) FROM n "
                    "WHERE n.name IS NOT NULL) SELECT name FROM n WHERE name IS NOT NULL"
                )
            ]
            return [
                (kind, name)
                for name in names
                for (kind,) in conn.execute(
                    "SELECT DISTINCT kind FROM assessments WHERE name = ? AND valid = 1", (name,)
                )
            ]

    def has_span(self, trace_id: str, span_id: str) -> bool:
        with self._lock:
            row = (
                self._read()
                .execute(
                    "SELECT 1 FROM traces t JOIN spans s ON s.tid = t.id "
                    "WHERE t.trace_id = ? AND s.span_id = ?",
                    (trace_id, span_id),
                )
                .fetchone()
            )
        return row is not None

    def existing_trace_ids(self, trace_ids: Sequence[str]) -> set[str]:
        """Which of these trace ids are in the index (one query per 500)."""
        found: set[str] = set()
        ids = list(trace_ids)
        with self._lock:
            conn = self._read()
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ", ".join("?" * len(part))
                found.update(
                    row[0]
                    for row in conn.execute(
                        f"SELECT trace_id FROM traces WHERE trace_id IN ({marks})", part
                    )
                )
        return found

    # -- loading --------------------------------------------------------------------------
    def _load(
        self, conn: sqlite3.Connection, tids: list[int], *, include_spans: bool
    ) -> list[Trace]:
        """The traces with these integer keys, in this order."""
        if not tids:
            return []
        marks = ", ".join("?" * len(tids))
        infos = {
            row[0]: row
            for row in conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM traces WHERE id IN ({marks})", tids
            )
        }
        trace_ids = {tid: row[1] for tid, row in infos.items()}
        spans: dict[int, list[Span]] = defaultdict(list)
        if include_spans:
            for tid, span_id, parent_id, name, start_ns, end_ns, data in conn.execute(
                "SELECT tid, span_id, parent_span_id, name, start_ns, end_ns, data FROM spans "
                f"WHERE tid IN ({marks}) ORDER BY start_ns, rowid",
                tids,
            ):
                fields = json.loads(data)
                fields.update(
                    trace_id=trace_ids[tid],
                    span_id=span_id,
                    parent_id=parent_id,
                    name=name,
                    start_ns=start_ns,
                    end_ns=end_ns,
                )
                spans[tid].append(Span.from_row_data(fields))
        assessments: dict[str, list[Any]] = defaultdict(list)
        id_marks = ", ".join("?" * len(trace_ids))
        for trace_id, data in conn.execute(
            f"SELECT trace_id, data FROM assessments WHERE trace_id IN ({id_marks}) "
            "ORDER BY create_time_ms, assessment_id",
            list(trace_ids.values()),
        ):
            assessments[trace_id].append(assessment_from_dict(json.loads(data)))
        result = []
        for tid in tids:
            row = infos.get(tid)
            if row is None:
                continue
            info = TraceInfo(
                trace_id=row[1],
                name=row[2],
                service_name=row[3],
                root_span_id=row[4],
                timestamp_ms=row[5],
                execution_time_ms=row[6],
                status=row[7],
                request_preview=row[8],
                response_preview=row[9],
                tags=json.loads(row[10]),
                metadata=json.loads(row[11]),
                session_id=row[12],
                user_id=row[13],
                input_tokens=row[14],
                output_tokens=row[15],
                span_count=row[16],
                assessments=assessments.get(row[1], []),
            )
            result.append(Trace(info, spans.get(tid, [])))
        return result


def _retry_while_locked(conn: sqlite3.Connection, sql: str, seconds: float = 60.0) -> None:
    """Run ``sql``, retrying while another process holds the database: switching a new index
    to WAL needs an exclusive lock, and SQLite answers "database is locked" at once there
    instead of waiting in its busy handler (several processes opening a new store at once)."""
    deadline = time.monotonic() + seconds
    delay = 0.005
    while True:
        try:
            conn.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _with_run(where: str, params: list[Any], run_id: str) -> tuple[str, list[Any]]:
    """``where`` narrowed to the traces of a run: their metadata ``otelfeedback.run_id``, or
    one of their assessments' metadata, equals ``run_id``."""
    return (
        f"({where}) AND (t.id IN (SELECT tid FROM trace_metadata WHERE key = ? AND "
        "value_text = ?) OR t.trace_id IN (SELECT trace_id FROM assessments "
        "WHERE json_extract(data, '$.metadata.\"' || ? || '\"') = ?))",
        [*params, RUN_ID, run_id, RUN_ID, run_id],
    )


def _fingerprint(filter_string: str | None, orders: Sequence[Any], run_id: str | None) -> str:
    """What a page token is tied to: the filter, the order and the run."""
    return query_fingerprint(
        filter_string, [o.column for o in orders], [o.descending for o in orders], run_id
    )


def _new_empty_index() -> sqlite3.Connection:
    """An index of no data, in memory (the read side of a store that does not exist yet)."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    schema.migrate(conn)
    return conn


def _with_records(
    stats: indexer.IndexStats, recorded: record_index.RecordIndexStats
) -> indexer.IndexStats:
    stats.record_lines = recorded.lines
    stats.stored_records = recorded.records
    stats.skipped_lines += recorded.skipped_lines
    return stats
