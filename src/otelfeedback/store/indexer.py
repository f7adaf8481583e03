"""Bring the SQLite index up to date with the OTLP/JSON segments, incrementally.

Each segment's indexed byte offset (and line count) is stored with the rows it produced, in
the same transaction, so the index is exactly "the first N complete lines of each segment"
at any moment, whoever (which process) indexed them. A last line without a newline is not
consumed yet (its writer is still writing it).

No line can stop the index. A line that does not decode, or whose values SQLite cannot take
(an integer past 64 bits, a lone UTF-16 surrogate), is decoded again under the value rule
of ``_internal/otlp_json/values.py`` (invalid UTF-8 and lone surrogates become U+FFFD, integers past
64 bits their text); a line that still fails is skipped and reported (a warning naming the
file and the line, and a row of ``skipped_lines``). The rest of the chunk is indexed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from otelfeedback._internal.gc_pause import gc_paused
from otelfeedback._internal.otlp_json.decode import OTLPDecodeError, SpanRecord, iter_spans
from otelfeedback._internal.otlp_json.segments import LineCursor, complete_lines
from otelfeedback._internal.otlp_json.segments import list_segments as _list_segments
from otelfeedback._internal.otlp_json.values import encodable
from otelfeedback.store import bulk, chunk
from otelfeedback.store.schema import CLEAR_STATEMENTS

logger = logging.getLogger("otelfeedback.store")

#: Spans per write transaction: bounds memory whatever the store's size.
CHUNK_SPANS = 20000
CHUNK_BYTES = 32 * 1024 * 1024
#: How long a write to the index waits for another writer (thread or process), in ms.
BUSY_TIMEOUT_MS = 60_000


@dataclass
class IndexStats:
    lines: int = 0
    spans: int = 0
    records: int = 0  # assessment records
    skipped_lines: int = 0
    record_lines: int = 0  # lines of <store>/records/ (store/record_index.py)
    stored_records: int = 0  # records that are not spans (datasets, labeling, runs)
    repaired_lines: int = 0
    #: False when a budget ran out, or another writer held the index, before the end.
    complete: bool = True


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


def update(
    conn: sqlite3.Connection,
    traces_dir: Path,
    budget: float | None = None,
    *,
    wait_below: int | None = None,
    pause: Callable[[], None] | None = None,
) -> IndexStats:
    """Index the complete lines present when the call starts; lines appended meanwhile wait
    for the next call, so a read never chases a store that is still growing.

    Without a ``budget`` everything pending is indexed (a large backlog on an empty index
    as a bulk load: see ``store/bulk.py``), waiting for another writer of the index if
    needed. With a ``budget`` (seconds) the call returns once it is spent, and at once if
    another thread or process is writing the index (a ``BackgroundIndexer``'s rounds).
    With ``wait_below`` too (a read's catch-up), a backlog of at most that many bytes is
    brought in within the budget, waiting for another writer if needed, and a larger one is
    left alone: indexing even one more line of it (512 spans decode in tens of ms) would
    cost the read its answer time, and a ``BackgroundIndexer`` takes it. ``complete`` says
    whether every line present at the start was indexed. ``pause`` is called between lines:
    it may block to leave the interpreter to more urgent work (a page request)."""
    stats = IndexStats()
    todo = pending(conn, traces_dir)
    if budget is not None:
        if wait_below is None:
            _update_within(conn, todo, time.monotonic() + budget, stats, wait=False, pause=pause)
        elif _backlog(conn, todo) <= wait_below:
            _update_within(conn, todo, time.monotonic() + budget, stats, wait=True)
        else:
            stats.complete = False  # a large backlog: the background indexer's
        return stats
    bulk.restore_indexes(conn)
    deferred = bulk.is_bulk(conn, todo) and bulk.defer_indexes(conn)
    try:
        for path, size in todo:
            while _index_chunk(conn, path, stats, size, None):
                pass
    finally:
        if deferred:
            bulk.restore_indexes(conn)
    return stats


def _backlog(conn: sqlite3.Connection, todo: list[tuple[Path, int]]) -> int:
    offsets = dict(conn.execute("SELECT name, offset FROM segments").fetchall())
    return sum(size - offsets.get(path.name, 0) for path, size in todo)


def _update_within(
    conn: sqlite3.Connection,
    todo: list[tuple[Path, int]],
    deadline: float,
    stats: IndexStats,
    *,
    wait: bool,
    pause: Callable[[], None] | None = None,
) -> None:
    """Index ``todo`` until ``deadline``. Another writer holding the index is waited for
    (polling, so the deadline holds) when ``wait``, else the call gives up at once."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        for path, size in todo:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    stats.complete = False
                    return
                # Lines are read for half the time left: storing them takes about as long.
                try:
                    more = _index_chunk(conn, path, stats, size, now + (deadline - now) / 2, pause)
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise
                    if not wait:
                        stats.complete = False
                        return
                    time.sleep(min(0.01, max(0.0, deadline - now)))
                    continue
                if not more:
                    break
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


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


def _index_chunk(
    conn: sqlite3.Connection,
    path: Path,
    stats: IndexStats,
    until: int,
    read_deadline: float | None,
    pause: Callable[[], None] | None = None,
) -> bool:
    """Index up to one chunk of ``path`` (not past byte ``until``, not reading lines after
    ``read_deadline``) in one transaction; ``pause`` is called between lines. Returns
    whether there is more to index below ``until``."""
    with gc_paused():
        return _index_chunk_locked(conn, path, stats, until, read_deadline, pause)


def _index_chunk_locked(
    conn: sqlite3.Connection,
    path: Path,
    stats: IndexStats,
    until: int,
    read_deadline: float | None,
    pause: Callable[[], None] | None,
) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT offset, line FROM segments WHERE name = ?", (path.name,)
        ).fetchone()
        cursor = LineCursor(*row) if row else LineCursor()
        lines: list[_Line] = []
        spans = 0
        more = False
        start = cursor.offset
        for raw in complete_lines(path, cursor, until):
            stats.lines += 1
            if raw.strip():
                line = _decode_line(conn, raw, path, cursor.line, stats)
                if line is not None:
                    lines.append(line)
                    spans += len(line.spans)
            if (
                spans >= CHUNK_SPANS
                or cursor.offset - start >= CHUNK_BYTES
                or (read_deadline is not None and time.monotonic() >= read_deadline)
            ):
                more = cursor.offset < until
                break
            if pause is not None:
                pause()
        _store_lines(conn, path, lines, stats)
        conn.execute(
            "INSERT INTO segments (name, offset, line) VALUES (?, ?, ?) ON CONFLICT(name) "
            "DO UPDATE SET offset = excluded.offset, line = excluded.line",
            (path.name, cursor.offset, cursor.line),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return more


@dataclass
class _Line:
    """One decoded line: its number, its bytes (to repair it) and its spans."""

    number: int
    raw: bytes
    spans: list[SpanRecord]


#: Errors a line's own data can cause while it is stored (a value SQLite cannot take: an
#: integer past 64 bits, a string with a lone surrogate, one too big...). Anything else (a
#: full disk, a locked or deleted index) is the environment's, and propagates.
_DATA_ERRORS = (
    ValueError,
    TypeError,
    OverflowError,
    RecursionError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
)


def _decode(raw: bytes, *, repair: bool) -> list[SpanRecord]:
    """The spans of one line. ``repair`` decodes invalid UTF-8 with U+FFFD and applies the
    value rule of ``_internal/otlp_json/values.py`` (lone surrogates, integers past 64 bits)."""
    if not repair:
        return list(iter_spans(json.loads(raw)))
    return list(iter_spans(encodable(json.loads(raw.decode("utf-8", "replace")))))


def _decode_line(
    conn: sqlite3.Connection, raw: bytes, path: Path, line_no: int, stats: IndexStats
) -> _Line | None:
    """Decode a line; a line that does not decode even repaired is skipped and reported."""
    try:
        return _Line(line_no, raw, _decode(raw, repair=False))
    except (ValueError, OTLPDecodeError, RecursionError):
        pass
    try:
        return _Line(line_no, raw, _decode(raw, repair=True))
    except (ValueError, OTLPDecodeError, RecursionError) as exc:
        _skip(conn, path, line_no, exc, stats)
        return None


def _store_lines(
    conn: sqlite3.Connection, path: Path, lines: list[_Line], stats: IndexStats
) -> None:
    """Store the spans of ``lines``; when a line's data makes the store fail, find it by
    halving, store it repaired, or skip and report it. The other lines are stored."""
    if not lines:
        return
    try:
        added, records = _store_savepoint(conn, [span for line in lines for span in line.spans])
    except _DATA_ERRORS as exc:
        if len(lines) > 1:
            half = len(lines) // 2
            _store_lines(conn, path, lines[:half], stats)
            _store_lines(conn, path, lines[half:], stats)
            return
        try:
            added, records = _store_savepoint(conn, _decode(lines[0].raw, repair=True))
        except (*_DATA_ERRORS, OTLPDecodeError) as again:
            _skip(conn, path, lines[0].number, again, stats)
            return
        stats.repaired_lines += 1
        logger.info("line %d of %s stored with values repaired: %s", lines[0].number, path, exc)
    stats.spans += added
    stats.records += records


def _store_savepoint(conn: sqlite3.Connection, spans: list[SpanRecord]) -> tuple[int, int]:
    """``chunk.store`` inside a savepoint: undone entirely when it raises."""
    conn.execute("SAVEPOINT lines")
    try:
        result = chunk.store(conn, spans)
    except BaseException:
        conn.execute("ROLLBACK TO lines")
        conn.execute("RELEASE lines")
        raise
    conn.execute("RELEASE lines")
    return result


def _skip(
    conn: sqlite3.Connection, path: Path, line_no: int, exc: BaseException, stats: IndexStats
) -> None:
    """Report a line the index cannot take: a warning, a count, and a row of
    ``skipped_lines`` (``FileStore.index_status()``)."""
    reason = f"{type(exc).__name__}: {str(exc)[:200]}"
    stats.skipped_lines += 1
    logger.warning("skipping line %d of %s: %s", line_no, path, reason)
    conn.execute(
        "INSERT OR REPLACE INTO skipped_lines VALUES (?, ?, ?, ?)",
        (path.name, line_no, reason, time.time()),
    )
