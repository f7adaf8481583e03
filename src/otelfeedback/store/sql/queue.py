"""The server's OTLP requests, durable first and indexed right after: ``ingest_queue``.

The receiver stores each accepted request as one row (the same OTLP/JSON line the file store
appends) and answers 200 once that row is committed, so nothing acknowledged is lost and a
request costs one insert. Indexing it into the tables (``ingest.py``) happens next, off the
request path: a background thread in every server process drains the queue, and a read
first drains whatever was committed before it started (so a read sees every span
acknowledged before it, as with the file store, whose reads index the new lines first).

Draining takes rows with ``FOR UPDATE SKIP LOCKED``, indexes them and deletes them in one
transaction: any number of processes drain at once, each row is indexed exactly once, and a
failure leaves the rows queued for the next try. A row that fails on its own (a bug, not a
lost connection) moves to ``ingest_rejected`` with the error, kept, never retried forever.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from otelfeedback._internal.otlp_json.decode import OTLPDecodeError, SpanRecord, iter_spans
from otelfeedback._internal.otlp_json.values import encodable
from otelfeedback.errors import StoreUnavailableError
from otelfeedback.store.background import ReadGate
from otelfeedback.store.index_db import IndexStatus

logger = logging.getLogger("otelfeedback.store")

#: Rows (requests) indexed per transaction.
DRAIN_ROWS = 32
#: Seconds the background indexer sleeps when it was not woken.
IDLE_WAIT = 0.5


def enqueue(conn: Any, line: bytes) -> None:
    """Store one OTLP/JSON line durably (committed when this returns, autocommit)."""
    conn.execute(
        "INSERT INTO ingest_queue (line, received_ms) VALUES (%s, %s)",
        (line, time.time_ns() // 1_000_000),
    )


def newest(conn: Any) -> int | None:
    """The id of the newest queued row, None when the queue is empty."""
    row = conn.execute("SELECT max(id) FROM ingest_queue").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def status(conn: Any) -> IndexStatus:
    """The queue as ``FileStore.index_status`` reports its index: bytes queued and not
    indexed yet, and the requests set aside (``ingest_rejected``) with their errors."""
    (pending,) = conn.execute("SELECT coalesce(sum(length(line)), 0) FROM ingest_queue").fetchone()
    (rejected,) = conn.execute("SELECT count(*) FROM ingest_rejected").fetchone()
    last = conn.execute(
        "SELECT id, error FROM ingest_rejected ORDER BY rejected_ms DESC, id DESC LIMIT 10"
    ).fetchall()
    return IndexStatus(
        0, int(pending), int(rejected), [("ingest_rejected", int(i), str(e)) for i, e in last]
    )


def decode_line(raw: bytes) -> list[SpanRecord]:
    """The spans of one OTLP/JSON line under the value rule (``_internal/otlp_json/
    values.py``), as the file store's index stores them: invalid UTF-8 and lone surrogates
    become U+FFFD (a line with a ``\\u`` escape of a surrogate is checked whole).

    Raises:
        ValueError, OTLPDecodeError, RecursionError: the line is not OTLP/JSON.
    """
    text = raw.decode("utf-8", "replace")
    request = json.loads(text)
    if "\\ud" in text or "\\uD" in text:
        request = encodable(request)
    return list(iter_spans(request))


def _decode(lines: list[tuple[int, bytes]]) -> tuple[list[SpanRecord], list[tuple[int, str]]]:
    spans: list[SpanRecord] = []
    bad: list[tuple[int, str]] = []
    for row_id, line in lines:
        try:
            spans.extend(decode_line(bytes(line)))
        except (ValueError, OTLPDecodeError, RecursionError) as exc:
            bad.append((row_id, f"{type(exc).__name__}: {exc}"[:1000]))
    return spans, bad


def drain_once(
    conn: Any, store_spans: Callable[[Any, list[SpanRecord]], Any], upto: int | None = None
) -> int:
    """Index up to ``DRAIN_ROWS`` queued rows (only ids up to ``upto``, when given) in one
    transaction. Returns the number of rows taken (0: none free)."""
    limit = "" if upto is None else "WHERE id <= %s "
    params: tuple[Any, ...] = (DRAIN_ROWS,) if upto is None else (upto, DRAIN_ROWS)
    with conn.transaction():
        rows = conn.execute(
            f"SELECT id, line FROM ingest_queue {limit}ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            params,
        ).fetchall()
        if not rows:
            return 0
        spans, bad = _decode(rows)
        try:
            with conn.transaction():  # a savepoint: a failing batch is split below
                store_spans(conn, spans)
        except Exception as exc:
            if is_retryable(exc):
                raise  # the whole transaction rolls back: the rows stay queued
            if len(rows) == 1:
                bad.append((rows[0][0], f"{type(exc).__name__}: {exc}"[:1000]))
            else:
                for row in rows:  # find the row that fails, index the others
                    try:
                        with conn.transaction():
                            store_spans(conn, _decode([row])[0])
                    except Exception as one:
                        if is_retryable(one):
                            raise
                        bad.append((row[0], f"{type(one).__name__}: {one}"[:1000]))
        if bad:
            logger.error(
                "ingest queue: %d request(s) could not be indexed: %s", len(bad), bad[0][1]
            )
            conn.execute(
                "INSERT INTO ingest_rejected (id, line, received_ms, error, rejected_ms) "
                "SELECT q.id, q.line, q.received_ms, b.error, %s FROM ingest_queue q "
                "JOIN unnest(%s::bigint[], %s::text[]) AS b(id, error) ON b.id = q.id",
                (time.time_ns() // 1_000_000, [b[0] for b in bad], [b[1] for b in bad]),
            )
        conn.execute("DELETE FROM ingest_queue WHERE id = ANY(%s)", ([r[0] for r in rows],))
    return len(rows)


#: The message of the error a row gets when no partition holds its trace key.
NO_PARTITION = "no partition of relation"


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is about the moment, not the data: a lost connection, a deadlock,
    a partition not made yet. The work is done again; nothing is rejected."""
    import psycopg

    if isinstance(exc, psycopg.errors.CheckViolation):
        return NO_PARTITION in str(exc)
    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))


def catch_up(
    conn: Any,
    store_spans: Callable[[Any, list[SpanRecord]], Any],
    deadline: float | None = None,
) -> bool:
    """Index every row queued before this call (helping other drainers, then waiting for the
    rows they hold): afterwards a read sees every span acknowledged before it. With a
    ``deadline`` (``time.monotonic()``), stop there and leave the rest to the background
    indexer. Returns whether every such row is indexed."""
    upto = newest(conn)
    if upto is None:
        return True
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            left = conn.execute("SELECT 1 FROM ingest_queue WHERE id <= %s LIMIT 1", (upto,))
            return left.fetchone() is None
        if drain_once(conn, store_spans, upto):
            continue
        left = conn.execute("SELECT 1 FROM ingest_queue WHERE id <= %s LIMIT 1", (upto,))
        if left.fetchone() is None:
            return True
        time.sleep(0.005)  # rows another process is indexing right now


class BackgroundIndexer:
    """Drains the queue in a thread of this process while the server runs: at once when
    woken (a request was queued here), else every ``IDLE_WAIT`` seconds (requests queued by
    other processes). With a ``gate``, each batch first gives way to the requests in flight
    (the server's OTLP requests and pages: acknowledging comes first), within the gate's
    bounds (at most a quarter second at a time, at most half of the time)."""

    def __init__(self, drain: Callable[[], int], gate: ReadGate | None = None) -> None:
        self._drain = drain
        self._gate = gate
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="otelfeedback-indexer")
        self._thread.daemon = True
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(IDLE_WAIT)
            self._wake.clear()
            try:
                while not self._stop.is_set():
                    if self._gate is not None:
                        self._gate.pause()
                    if not self._drain():
                        break
            except StoreUnavailableError as exc:
                logger.warning("ingest queue: %s", exc)
                self._stop.wait(1.0)
            except Exception:
                logger.exception("ingest queue: indexing failed")
                self._stop.wait(1.0)
