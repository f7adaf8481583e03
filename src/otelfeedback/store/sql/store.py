"""``SqlStore``: the team store on PostgreSQL (``postgresql://...``), for one server or many.

>>> store = SqlStore("postgresql://otelfeedback@db.internal/traces")   # doctest: +SKIP
>>> store.search_traces("feedback.user_feedback = false")                # doctest: +SKIP

Everything the file store does, with the same results: spans and the assessment log
(written by the server's OTLP receiver through ``append_spans``), the records API, search
with the one filter grammar and compiler (``PostgresDialect``). Connections come from a
pool opened on first use; the schema is migrated on first use too (``migrate``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from otelfeedback._internal.otlp_json.decode import SpanRecord, iter_spans
from otelfeedback._internal.otlp_json.values import encodable
from otelfeedback.assessments.entities import Expectation, Feedback, assessment_from_dict
from otelfeedback.assessments.placement import Target
from otelfeedback.assessments.wire import AssessmentRecord
from otelfeedback.errors import InvalidArgumentError, NotFoundError
from otelfeedback.semconv import RUN_ID
from otelfeedback.store import reading, record_batches, record_checks, stats
from otelfeedback.store.background import ReadGate
from otelfeedback.store.base import WRITER_SERVICE_NAME
from otelfeedback.store.carriers import carrier_line
from otelfeedback.store.entities import Span, Trace
from otelfeedback.store.index_db import IndexStatus
from otelfeedback.store.paging import PagedList
from otelfeedback.store.query import PostgresDialect, compile_filter, parse_filter
from otelfeedback.store.query.parser import Node
from otelfeedback.store.query.search import page_token as token_at
from otelfeedback.store.query.search import plan_search
from otelfeedback.store.records import Record, RecordMethods, RecordWrite, json_text
from otelfeedback.store.sql import connect, ingest, partitions, queue, record_table, schema
from otelfeedback.store.sql import text as pg

#: Conditions needing a subquery (on spans, tags, metadata, attributes, assessments, text)
#: one search may have: PostgreSQL's planning time grows faster than their number (and does
#: not stop for a statement timeout), 100 take seconds.
MAX_SUBQUERIES = 64
#: Seconds a search may run (see ``SqlStore``).
SEARCH_TIMEOUT = 30.0


class SqlStore(RecordMethods):
    """The store in a PostgreSQL database. Thread-safe; any number of processes and hosts
    may read and write the same database at once.

    Args:
        url: ``postgresql://user:password@host:port/database`` (libpq's URL form; any
            libpq parameter may follow as a query string).
        partition_traces: traces per partition of the span tables, for a new database
            (ignored once the schema exists; see ``docs/scaling.md``).
        pool_size: connections this process may open.
        pool_timeout: seconds a call waits for a connection before ``StoreUnavailableError``.
        index_budget: ``None`` (the default): each read first indexes every request queued
            before it, so it sees every span acknowledged before it. A number of seconds:
            a read indexes queued requests for at most that long and answers with what is
            indexed, leaving the rest to the background indexer (``start_indexer``);
            ``index_status()`` says how far behind it is. The server sets this, like the
            file store's, so its pages answer on time under an ingestion backlog.
        search_timeout: seconds a search may run before it is cancelled (an
            ``InvalidArgumentError`` naming the filter: hundreds of span conditions are
            planned slowly by PostgreSQL).

    Raises:
        ConfigurationError: ``url`` is not a PostgreSQL URL.
        MissingExtraError: psycopg is not installed (``otelfeedback[postgres]``).
    """

    def __init__(
        self,
        url: str,
        *,
        partition_traces: int | None = None,
        pool_size: int = connect.POOL_MAX,
        pool_timeout: float = connect.POOL_TIMEOUT,
        search_timeout: float = SEARCH_TIMEOUT,
        index_budget: float | None = None,
    ) -> None:
        connect.require_psycopg()
        if partition_traces is not None and (
            isinstance(partition_traces, bool)
            or not isinstance(partition_traces, int)
            or partition_traces < 1
        ):
            raise InvalidArgumentError("partition_traces", "expected a positive int")
        self.url = url
        self.path = connect.redact(url)  # for messages, like FileStore.path
        self._pool = connect.Pool(url, max_size=pool_size, timeout=pool_timeout)
        self._search_timeout_ms = max(1, int(search_timeout * 1000))
        self.index_budget = index_budget
        self._partition_traces = partition_traces
        self._lock = threading.Lock()
        self._ready = False
        self._partition_size = 0
        self._covered = 0  # the first trace key without a partition
        self._indexer: queue.BackgroundIndexer | None = None
        self._keys = threading.local()  # .max: the largest trace key of the current write

    # -- lifecycle --------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Bring the database's schema up to date (also done on first use). Returns the
        migrations applied.

        Raises:
            SchemaTooNewError: the database was migrated by a newer otelfeedback.
            StoreUnavailableError: the database cannot be reached.
        """
        with self._pool.connection() as conn:
            applied = schema.migrate(conn, self.path, self._partition_traces)
            self._partition_size = partitions.partition_size(conn)
            self._covered = partitions.ensure(
                conn, self._partition_size, self._next_key(conn) + self._partition_size // 2
            )
        self._ready = True
        return applied

    def schema_version(self) -> int:
        """The database's schema version (0: an empty database)."""
        return self._pool.run(schema.current_version, retry=True)

    def _ensure_ready(self) -> None:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.migrate()

    def close(self) -> None:
        self.stop_indexer()
        self._pool.close()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, work: Any, *, spans: bool = True) -> Any:
        """``work(conn)`` in a read-only snapshot (one consistent view of every table),
        retried once on a new connection if the first one broke. With ``spans``, the
        requests queued before the read are indexed first (``queue.py``)."""
        self._ensure_ready()
        if spans:
            budget = self.index_budget
            deadline = None if budget is None else time.monotonic() + max(0.0, budget)
            self._retrying(lambda conn: queue.catch_up(conn, self._store_queued, deadline))

        def snapshot(conn: Any) -> Any:
            import psycopg

            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            try:
                with conn.transaction():
                    return work(conn)
            finally:
                if not conn.closed:
                    conn.isolation_level = None
                    conn.read_only = None

        return self._pool.run(snapshot, retry=True)

    # -- writes -----------------------------------------------------------------------------
    def append_spans(self, spans: Iterable[SpanRecord]) -> int:
        """Store decoded spans (and the assessment records they carry) in one transaction:
        all of them or, on an error, none. Spans stored before (same trace and span id) are
        skipped. Returns the number of spans added.

        Raises:
            StoreUnavailableError: the database cannot be reached or the connection broke;
                nothing of this call is stored.
        """
        self._ensure_ready()
        batch = list(spans)
        return int(self._retrying(lambda conn: self._store_queued(conn, batch).spans))

    def _retrying(self, work: Any) -> Any:
        """``work(conn)`` (a transaction of its own) done again when it failed for the
        moment: a partition not made yet (made now), a deadlock with partitions being made
        or dropped. A lost connection is ``StoreUnavailableError``."""
        import psycopg

        for attempt in range(3):
            with self._pool.connection() as conn:
                try:
                    self._keys.max = 0
                    result = work(conn)
                    half = max(1, self._partition_size // 2)
                    if self._keys.max and self._keys.max + half >= self._covered:
                        self._make_partitions(conn, self._keys.max + half)  # after commit
                    return result
                except psycopg.errors.CheckViolation as exc:
                    if queue.NO_PARTITION not in str(exc) or attempt == 2:
                        raise
                    # more new traces at once than the partitions made ahead can take
                    half = max(1, self._partition_size // 2)
                    self._make_partitions(conn, self._next_key(conn) + half)
                except psycopg.errors.DeadlockDetected:
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def _store_queued(self, conn: Any, spans: list[SpanRecord]) -> ingest.Ingested:
        """Index ``spans`` in ``conn``'s transaction (noting the largest key handed out, so
        that ``_retrying`` makes partitions ahead once it is committed)."""
        done = ingest.ingest(conn, spans)
        self._keys.max = max(getattr(self._keys, "max", 0), done.max_key)
        return done

    # -- the server's queue (``queue.py``) ------------------------------------------------
    def enqueue_line(self, line: bytes) -> None:
        """Store one OTLP/JSON line durably, to be indexed right after (by the background
        indexer, or by the next read): how the server's receiver takes a request.

        Raises:
            StoreUnavailableError: the database cannot be reached; nothing is stored.
        """
        self._ensure_ready()
        with self._pool.connection() as conn:
            queue.enqueue(conn, line)
        if self._indexer is not None:
            self._indexer.wake()

    def index_queue(self) -> int:
        """Index one batch of queued requests; returns how many were taken (0: none free)."""
        self._ensure_ready()
        return int(self._retrying(lambda conn: queue.drain_once(conn, self._store_queued)))

    def start_indexer(self, gate: ReadGate | None = None) -> None:
        """Index queued requests in a background thread until ``stop_indexer``, giving way
        to the requests in flight that hold ``gate``."""
        if self._indexer is None:
            self._indexer = queue.BackgroundIndexer(self.index_queue, gate)
            self._indexer.start()

    def stop_indexer(self) -> None:
        if self._indexer is not None:
            self._indexer.stop()
            self._indexer = None

    def append_request(self, request: dict[str, Any]) -> int:
        """Store an OTLP/JSON ``ExportTraceServiceRequest`` (a dict), as ``append_spans``
        (under the value rule, as the file store's index stores it)."""
        return self.append_spans(iter_spans(encodable(request)))

    def append_line(self, line: bytes) -> None:
        """Store one OTLP/JSON line (the file store's line format), as ``append_spans``."""
        self.append_spans(queue.decode_line(line))

    def _make_partitions(self, conn: Any, upto_key: int) -> None:
        self._covered = partitions.ensure(conn, self._partition_size, upto_key)

    @staticmethod
    def _next_key(conn: Any) -> int:
        row = conn.execute("SELECT last_value, is_called FROM trace_keys").fetchone()
        return int(row[0]) + (1 if row[1] else 0)

    def append_assessment(
        self,
        record: AssessmentRecord,
        target: Target | None,
        *,
        service_name: str = WRITER_SERVICE_NAME,
    ) -> None:
        """Append ``record``'s carrier span (see ``TraceStore``); committed on return."""
        self.append_line(carrier_line(record, target, service_name))

    # -- reads ------------------------------------------------------------------------------
    def get_trace(self, trace_id: str) -> Trace:
        def work(conn: Any) -> list[Trace]:
            found = conn.execute(
                "SELECT id FROM traces WHERE trace_id = %s", pg.params([trace_id])
            ).fetchone()
            return _load(conn, [found[0]] if found else [], include_spans=True)

        traces = self._read(work)
        if not traces:
            raise NotFoundError(f"trace {trace_id!r} not found in {self.path}")
        return traces[0]  # type: ignore[no-any-return]

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
        where, params = _where(plan.tree, run_id)
        sql = (
            f"SELECT t.id FROM traces t WHERE {where} ORDER BY {plan.order_sql(nulls=True)} "
            "LIMIT %s OFFSET %s"
        )

        def work(conn: Any) -> tuple[list[Trace], str | None]:
            tids = [
                row[0] for row in conn.execute(sql, [*pg.params(params), plan.fetch, plan.offset])
            ]
            token = plan.next_token(len(tids))
            if max_results is not None:
                tids = tids[:max_results]
            return _load(conn, tids, include_spans=include_spans), token

        traces, token = self._read(work)
        return PagedList(traces, token)

    def get_assessment(self, trace_id: str, assessment_id: str) -> Feedback | Expectation:
        row = self._read(
            lambda conn: conn.execute(
                "SELECT data FROM assessments WHERE trace_id = %s AND assessment_id = %s",
                pg.params([trace_id, assessment_id]),
            ).fetchone()
        )
        if row is None:
            raise NotFoundError(f"assessment {assessment_id!r} not found on trace {trace_id!r}")
        return assessment_from_dict(json.loads(row[0]))

    def find_root_span_id(self, trace_id: str) -> str | None:
        row = self._read(
            lambda conn: conn.execute(
                "SELECT root_span_id FROM traces WHERE trace_id = %s", pg.params([trace_id])
            ).fetchone()
        )
        return None if row is None else str(row[0])

    def has_span(self, trace_id: str, span_id: str) -> bool:
        row = self._read(
            lambda conn: conn.execute(
                "SELECT 1 FROM traces t JOIN spans s ON s.tid = t.id "
                "WHERE t.trace_id = %s AND s.span_id = %s",
                pg.params([trace_id, span_id]),
            ).fetchone()
        )
        return row is not None

    def existing_trace_ids(self, trace_ids: Sequence[str]) -> set[str]:
        """Which of ``trace_ids`` the store has (one indexed query)."""
        ids = pg.params([t for t in trace_ids if isinstance(t, str)])
        if not ids:
            return set()
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT trace_id FROM traces WHERE trace_id = ANY(%s)", (ids,)
            ).fetchall()
        )
        return {row[0] for row in rows}

    def assessment_names(self) -> list[tuple[str, str]]:
        """Every ``(kind, name)`` of a valid assessment, one index seek per name."""

        def work(conn: Any) -> list[tuple[str, str]]:
            return [
                (kind, name)
                for name, kind in conn.execute(
                    "WITH RECURSIVE n(name) AS (SELECT min(name) FROM assessments UNION ALL "
                    "SELECT (SELECT min(name) FROM assessments WHERE name > n.name) FROM n "
                    "WHERE n.name IS NOT NULL) SELECT n.name, k.kind FROM n, LATERAL "
                    "(SELECT DISTINCT kind FROM assessments a WHERE a.name = n.name "
                    "AND a.valid = 1) k WHERE n.name IS NOT NULL ORDER BY n.name, k.kind"
                )
            ]

        return self._read(work)  # type: ignore[no-any-return]

    # -- what the server's pages read (as ``FileStore``) -----------------------------------
    def page_token(
        self,
        offset: int,
        filter_string: str | None = None,
        order_by: list[str] | str | None = None,
        run_id: str | None = None,
    ) -> str | None:
        """The ``page_token`` of the page that starts at ``offset`` (as ``FileStore``).

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
        """Aggregates over the traces ``filter_string`` selects, as ``FileStore.trace_stats``
        (never sampled: the trigram index narrows every full-text condition).

        Raises:
            FilterSyntaxError: the filter does not parse.
        """
        where, params = _where(parse_filter(filter_string or ""), run_id)
        return self._read(  # type: ignore[no-any-return]
            lambda conn: stats.compute(
                conn,
                where,
                pg.params(params),
                start_ms=start_ms,
                end_ms=end_ms,
                buckets=buckets,
                mark="%s",
            )
        )

    def first_errors(self, trace_ids: list[str]) -> dict[str, str]:
        """For each of ``trace_ids`` with a failed span: what went wrong in the earliest one
        (as ``FileStore.first_errors``)."""
        ids = pg.params(list(trace_ids))
        return self._read(  # type: ignore[no-any-return]
            lambda conn: stats.first_errors(conn, ids, "%s"), spans=False
        )

    def index_status(self) -> IndexStatus:
        """How far indexing is behind: the queued requests' bytes not indexed yet
        (``pending_bytes``), and the requests that could not be indexed (kept in
        ``ingest_rejected``: ``skipped_lines``, the newest ten in ``last_skipped``)."""
        return self._read(queue.status, spans=False)  # type: ignore[no-any-return]

    # -- records ----------------------------------------------------------------------------
    def append_records(
        self, writes: Sequence[RecordWrite], *, author: str | None = None
    ) -> list[Record]:
        """Append a batch of record versions, all or nothing (see ``TraceStore``).

        Raises:
            InvalidArgumentError: a write is malformed (the message names ``records[i]``).
            ConflictError: an ``expected_version`` is not the stored one; nothing is written.
            NotFoundError: a deletion of a record that does not exist; nothing is written.
            StoreUnavailableError: the database cannot be reached; nothing is written.
        """
        batch = record_checks.check_writes(writes)
        author = record_checks.check_author(author)
        texts = [json_text(w.data) for w in batch]
        self._ensure_ready()
        with self._pool.connection() as conn, conn.transaction():
            record_table.lock(conn)
            heads = record_table.heads(conn, ((w.kind, w.id) for w in batch))
            first = record_table.next_sequence(conn)
            stored = record_batches.plan(batch, heads, first, time.time_ns() // 1_000_000, author)
            texts = ["{}" if r.deleted else t for r, t in zip(stored, texts)]
            record_table.insert(conn, stored, texts)
        return stored

    def import_records(self, versions: Sequence[Record]) -> int:
        """Store record versions exactly as another store holds them (sequences, versions,
        authors, times): ``otelfeedback store copy``. Versions whose sequence is stored
        already are skipped. Returns the number stored.

        Raises:
            InvalidArgumentError: a version clashes with a different one stored here.
        """
        import psycopg

        if not versions:
            return 0
        self._ensure_ready()
        texts = [json_text(r.data) for r in versions]
        try:
            with self._pool.connection() as conn, conn.transaction():
                record_table.lock(conn)
                return record_table.insert(conn, versions, texts, skip_stored=True)
        except psycopg.errors.UniqueViolation as exc:
            raise InvalidArgumentError(
                "records", f"this store holds other versions of the same records: {exc}"
            ) from None

    def get_record(self, kind: str, record_id: str, version: int | None = None) -> Record:
        """The latest version of a record (or the given ``version``, deleted or not).

        Raises:
            NotFoundError: no such record or version, or the latest version is a deletion.
            InvalidArgumentError: a malformed kind, id or version.
        """
        record_checks.check_kind(kind)
        record_checks.check_id(record_id)
        record_checks.check_version(version)
        found = self._read(
            lambda conn: record_table.get(conn, kind, record_id, version), spans=False
        )
        if found is None or (version is None and found.deleted):
            what = f"version {version} of " if version is not None else ""
            raise NotFoundError(f"{what}{kind} {record_id!r} not found")
        return found  # type: ignore[no-any-return]

    def list_records_page(
        self,
        kind: str,
        *,
        parent: str | None = None,
        as_of: int | None = None,
        include_deleted: bool = False,
        after: str | None = None,
        limit: int | None = None,
        changed_after: int | None = None,
    ) -> tuple[list[Record], int]:
        """One page of ``list_records`` and the sequence it reflects (see ``FileStore``)."""
        record_checks.check_listing(kind, parent, after, as_of, changed_after)

        def work(conn: Any) -> tuple[list[Record], int]:
            upto = record_table.max_sequence(conn) if as_of is None else as_of
            found = record_table.listing(
                conn, kind, parent, upto, include_deleted, after, limit, changed_after
            )
            return found, upto

        return self._read(work, spans=False)  # type: ignore[no-any-return]

    def record_history(self, kind: str, record_id: str) -> list[Record]:
        """Every version of a record, oldest first (empty if it never existed)."""
        record_checks.check_kind(kind)
        record_checks.check_id(record_id)
        return self._read(  # type: ignore[no-any-return]
            lambda conn: record_table.history(conn, kind, record_id), spans=False
        )

    # -- maintenance ------------------------------------------------------------------------
    def prune(self, older_than_ms: int, *, wait: bool = True) -> partitions.PruneStats | None:
        """Delete every trace that started more than ``older_than_ms`` milliseconds ago,
        with its spans and assessments (whole partitions dropped where they hold only such
        traces; see ``docs/scaling.md``). One prune runs at a time across every process:
        without ``wait``, returns None at once when another is running.

        Raises:
            InvalidArgumentError: ``older_than_ms`` is not a positive int.
            StoreUnavailableError: the database cannot be reached.
        """
        if (
            isinstance(older_than_ms, bool)
            or not isinstance(older_than_ms, int)
            or (older_than_ms <= 0)
        ):
            raise InvalidArgumentError("older_than_ms", "expected a positive int")
        self._ensure_ready()
        cutoff = time.time_ns() // 1_000_000 - older_than_ms
        with self._pool.connection() as conn:
            return partitions.prune(conn, cutoff, wait=wait)


def _where(tree: Node | None, run_id: str | None) -> tuple[str, list[Any]]:
    """The compiled filter over ``traces t`` (and the run's traces only, with ``run_id``).

    Raises:
        InvalidArgumentError: more than ``MAX_SUBQUERIES`` subquery conditions.
    """
    where, params = compile_filter(tree, PostgresDialect())
    subqueries = where.count("SELECT ")
    if subqueries > MAX_SUBQUERIES:
        raise InvalidArgumentError(
            "filter_string",
            f"too many conditions for the PostgreSQL store: {subqueries} on spans, tags, "
            f"metadata, attributes, assessments or text (at most {MAX_SUBQUERIES})",
        )
    if subqueries > 8:  # not pulled up into joins: PostgreSQL plans those slowly
        where = f"coalesce(({where}), false)"
    if run_id is not None:
        where = (
            f"({where}) AND (t.id IN (SELECT tid FROM trace_metadata WHERE key = %s AND "
            "value_text = %s) OR t.trace_id IN (SELECT trace_id FROM assessments "
            "WHERE data::json -> 'metadata' ->> %s = %s))"
        )
        params = [*params, RUN_ID, run_id, RUN_ID, run_id]
    return where, params


def _load(conn: Any, tids: list[int], *, include_spans: bool) -> list[Trace]:
    """The traces with these keys, in this order."""
    if not tids:
        return []
    infos = {
        row[0]: row
        for row in conn.execute(
            f"SELECT {reading.INFO_COLUMNS} FROM traces WHERE id = ANY(%s)", (tids,)
        )
    }
    trace_ids = {tid: row[1] for tid, row in infos.items()}
    spans: dict[int, list[Span]] = defaultdict(list)
    if include_spans:
        for row in conn.execute(
            f"SELECT {reading.SPAN_COLUMNS} FROM spans WHERE tid = ANY(%s) ORDER BY start_ns, ord",
            (tids,),
        ):
            spans[row[0]].append(reading.span(trace_ids[row[0]], row))
    assessments: dict[str, list[Any]] = defaultdict(list)
    for trace_id, data in conn.execute(
        "SELECT trace_id, data FROM assessments WHERE trace_id = ANY(%s) "
        "ORDER BY create_time_ms NULLS FIRST, assessment_id",
        (list(trace_ids.values()),),
    ):
        assessments[trace_id].append(assessment_from_dict(json.loads(data)))
    result = []
    for tid in tids:
        row = infos.get(tid)
        if row is not None:
            info = reading.trace_info(row, assessments.get(row[1], []))
            result.append(Trace(info, spans.get(tid, [])))
    return result
