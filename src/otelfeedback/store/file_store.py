"""The file store: OTLP/JSON segments under ``<dir>/traces/``, records that are not spans
under ``<dir>/records/`` (``store/records.py``), and a derived SQLite index of both.

>>> store = FileStore("./otelfeedback-data")            # doctest: +SKIP
>>> store.search_traces("feedback.user_feedback = false")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from otelfeedback import config
from otelfeedback._internal import forks
from otelfeedback._internal.otlp_json.segments import SegmentWriter
from otelfeedback.assessments.entities import Expectation, Feedback, assessment_from_dict
from otelfeedback.assessments.placement import Target
from otelfeedback.assessments.wire import AssessmentRecord
from otelfeedback.errors import InvalidArgumentError, NotFoundError, StoreWriteError
from otelfeedback.semconv import RUN_ID
from otelfeedback.store import index_db, indexer, record_index, stats
from otelfeedback.store.base import WRITER_SERVICE_NAME
from otelfeedback.store.carriers import carrier_line
from otelfeedback.store.entities import Trace
from otelfeedback.store.file_records import FileRecords
from otelfeedback.store.index_db import IndexDatabase, IndexStatus, empty_index, index_status
from otelfeedback.store.loading import load_traces
from otelfeedback.store.paging import PagedList
from otelfeedback.store.query import SQLiteDialect, compile_filter, parse_filter
from otelfeedback.store.query.search import page_token as token_at
from otelfeedback.store.query.search import plan_search

INDEX_FILE = "index.sqlite"
#: With an ``index_budget``, the largest backlog (bytes) a read waits for: about what an
#: app sends in a few seconds (its own writes); a larger one is the background's.
READ_BACKLOG = 2 * 1024 * 1024
TRACES_DIR = "traces"
_T = TypeVar("_T")


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # the connection is broken (the index deleted): the caller reopens it


class FileStore(FileRecords):
    """Read side of a file-store directory, and the write side of its records. Thread-safe;
    several processes may read and append the same directory at once. Each read first
    indexes the lines appended since the last one (see ``index_budget``).

    Args:
        path: the store directory (a URL such as ``postgresql://...`` is refused with
            ``InvalidArgumentError``: open those with their own store class).
        index_budget: ``None`` (the default): each read first indexes every line present
            when it starts. A number of seconds: a read brings in a small backlog (at most
            ``READ_BACKLOG`` bytes: what was just sent) within that time, waiting for
            another writer of the index if needed, and leaves a larger one to a
            ``BackgroundIndexer``, answering at once with what is indexed. The server does
            this, so its pages answer on time while spans pour in; ``index_status()`` says
            how far behind the index is. Without a background indexer, a budget leaves a
            large backlog unindexed until a read without one (or ``update_index()``).
    """

    def __init__(self, path: str | Path, *, index_budget: float | None = None) -> None:
        if isinstance(path, str) and "://" in path:  # Path() would make it a directory name
            raise InvalidArgumentError(
                "path",
                f"{path.split('://', 1)[0]}://... is a URL, not a file store directory; "
                'open a PostgreSQL store with otelfeedback.store.sql.SqlStore("postgresql://...")',
            )
        self.path = Path(path)
        self.traces_dir = self.path / TRACES_DIR
        self.records_dir = self.path / record_index.RECORDS_DIR
        self.index_budget = index_budget
        self._lock = threading.RLock()
        self._db = IndexDatabase(self.path / INDEX_FILE)
        self._writer: SegmentWriter | None = None
        self._empty: sqlite3.Connection | None = None
        self._records_writer: SegmentWriter | None = None
        forks.register(self)

    @property
    def _conn(self) -> sqlite3.Connection | None:  # type: ignore[override]
        """The open index connection, if any (``FileRecords`` asks)."""
        return self._db.current()

    def _connect(self) -> sqlite3.Connection:
        self.traces_dir.mkdir(parents=True, exist_ok=True)
        return self._db.connection()

    def close(self) -> None:
        with self._lock:
            self._db.close()
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
        """Append ``record``'s carrier span to the segments (see ``TraceStore``).

        Raises:
            StoreWriteError: the line could not be written (a full disk, a read-only store).
        """
        line = carrier_line(record, target, service_name)
        try:
            self.segment_writer().append(line)
        except OSError as exc:
            raise StoreWriteError(
                f"the record could not be written to the store at {self.path}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    # -- fork (``_internal/forks.py``) -----------------------------------------------------
    def _before_fork(self) -> None:
        pass  # a read may hold the lock for long (indexing): the child takes a new one

    def _after_fork_in_parent(self) -> None:
        pass

    def _after_fork_in_child(self) -> None:
        self._lock = threading.RLock()  # the index connection and writers reset themselves
        if self._empty is not None:
            index_db.INHERITED_CONNECTIONS.append(self._empty)
            self._empty = None

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
            self._empty = empty_index()
        return self._empty

    def index_status(self) -> IndexStatus:
        """How fresh the index is (bytes not indexed yet) and the lines it skipped. Does not
        index anything."""
        return self._reading(lambda conn: index_status(conn, self.traces_dir), index=False)

    def _reading(self, read: Callable[[sqlite3.Connection], _T], *, index: bool = True) -> _T:
        """``read(conn)`` in one snapshot of the index, after indexing (unless not
        ``index``). If the index file is deleted meanwhile, the read is done again on a new
        index."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if not self._db.is_open() and not self.traces_dir.is_dir():
                        # Nothing written yet: answer from an empty index in memory; create
                        # no files.
                        return read(self._empty_index())
                    conn = self._connect()
                    if index:
                        indexer.update(
                            conn, self.traces_dir, self.index_budget, wait_below=READ_BACKLOG
                        )
                    conn.execute("BEGIN")
                    try:
                        result = read(conn)
                    except BaseException:
                        _rollback(conn)
                        raise
                    conn.execute("COMMIT")
                    return result
                except sqlite3.OperationalError:
                    if attempt == 2 or self._db.is_current():
                        raise
                    self._db.close()  # deleted under us: the next attempt opens a new index
            raise AssertionError("unreachable")

    # -- reads ----------------------------------------------------------------------------
    def get_trace(self, trace_id: str) -> Trace:
        def read(conn: sqlite3.Connection) -> list[Trace]:
            found = conn.execute("SELECT id FROM traces WHERE trace_id = ?", (trace_id,)).fetchone()
            return load_traces(conn, [found[0]] if found else [], include_spans=True)

        traces = self._reading(read)
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
        plan = plan_search(filter_string, max_results, order_by, page_token, run_id)
        limit = -1 if plan.fetch is None else plan.fetch

        def read(conn: sqlite3.Connection) -> tuple[list[Trace], str | None]:
            # One snapshot for planning (full text probes the index), the query and loading.
            where, params = compile_filter(plan.tree, SQLiteDialect(conn))
            if run_id is not None:
                where, params = _with_run(where, params, run_id)
            sql = (
                f"SELECT t.id FROM traces t WHERE {where} ORDER BY {plan.order_sql()} "
                "LIMIT ? OFFSET ?"
            )
            tids = [row[0] for row in conn.execute(sql, [*params, limit, plan.offset])]
            token = plan.next_token(len(tids))
            tids = tids[:max_results] if max_results is not None else tids
            return load_traces(conn, tids, include_spans=include_spans), token

        traces, token = self._reading(read)
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
        return token_at(offset, filter_string, order_by, run_id)

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

        def read(conn: sqlite3.Connection) -> stats.TraceStats:
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

        return self._reading(read)

    def first_errors(self, trace_ids: list[str]) -> dict[str, str]:
        """For each of ``trace_ids`` with a failed span (the root or any other): what went
        wrong in the earliest one (its status message, else its first exception)."""
        return self._reading(lambda conn: stats.first_errors(conn, list(trace_ids)))

    def get_assessment(self, trace_id: str, assessment_id: str) -> Feedback | Expectation:
        row = self._fetchone(
            "SELECT data FROM assessments WHERE trace_id = ? AND assessment_id = ?",
            (trace_id, assessment_id),
        )
        if row is None:
            raise NotFoundError(f"assessment {assessment_id!r} not found on trace {trace_id!r}")
        return assessment_from_dict(json.loads(row[0]))

    def find_root_span_id(self, trace_id: str) -> str | None:
        row = self._lookup("SELECT root_span_id FROM traces WHERE trace_id = ?", (trace_id,))
        return None if row is None else str(row[0])

    def assessment_names(self) -> list[tuple[str, str]]:
        """Every ``(kind, name)`` of a valid assessment in the store, from the index alone:
        one seek per distinct name (a loose scan of the ``(name, kind, valid)`` index)."""

        def read(conn: sqlite3.Connection) -> list[tuple[str, str]]:
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

        return self._reading(read)

    def has_span(self, trace_id: str, span_id: str) -> bool:
        row = self._lookup(
            "SELECT 1 FROM traces t JOIN spans s ON s.tid = t.id "
            "WHERE t.trace_id = ? AND s.span_id = ?",
            (trace_id, span_id),
        )
        return row is not None

    def existing_trace_ids(self, trace_ids: Sequence[str]) -> set[str]:
        """Which of these trace ids are in the index (one query per 500)."""
        ids = list(trace_ids)

        def read(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
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

        return self._reading(read)

    def _fetchone(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self._reading(lambda conn: conn.execute(sql, params).fetchone())

    def _lookup(self, sql: str, params: tuple[Any, ...]) -> Any:
        """``_fetchone`` for a fact that stays true once indexed (a span exists, a trace's
        root): answered from the index as it is when found there, so that writing an
        assessment does not first index the lines written since (its own last record)."""
        found = self._reading(lambda conn: conn.execute(sql, params).fetchone(), index=False)
        return found if found is not None else self._fetchone(sql, params)


def _with_records(
    stats: indexer.IndexStats, recorded: record_index.RecordIndexStats
) -> indexer.IndexStats:
    stats.record_lines = recorded.lines
    stats.stored_records = recorded.records
    stats.skipped_lines += recorded.skipped_lines
    return stats


def _with_run(where: str, params: list[Any], run_id: str) -> tuple[str, list[Any]]:
    """``where`` narrowed to the traces of a run: their metadata ``otelfeedback.run_id``, or
    one of their assessments' metadata, equals ``run_id``."""
    return (
        f"({where}) AND (t.id IN (SELECT tid FROM trace_metadata WHERE key = ? AND "
        "value_text = ?) OR t.trace_id IN (SELECT trace_id FROM assessments "
        "WHERE json_extract(data, '$.metadata.\"' || ? || '\"') = ?))",
        [*params, RUN_ID, run_id, RUN_ID, run_id],
    )
