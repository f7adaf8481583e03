"""The file store's records in its SQLite index: catching up with ``<store>/records/``
segments, adding a batch just written, and the queries (latest, a version, history, a
listing as of a sequence).

Like the span index, each segment's indexed byte offset is stored in the transaction that
stores the rows its lines produced (``record_segments``), so whichever process indexes, every
complete line is indexed exactly once. A line that does not decode, or whose versions clash
with stored ones, is skipped as a whole (a line is one atomic batch) with a warning naming
the file and line.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otelfeedback._internal.gc_pause import gc_paused
from otelfeedback._internal.otlp_json.segments import (
    Appended,
    LineCursor,
    complete_lines,
    list_segments,
)
from otelfeedback.store.record_batches import decode_line
from otelfeedback.store.records import Head, Record, build_record, json_text

logger = logging.getLogger("otelfeedback.store")

RECORDS_DIR = "records"
#: Bytes of lines per write transaction while catching up.
CHUNK_BYTES = 32 * 1024 * 1024
_LOOKUP = 500  # ids per lookup query

_COLUMNS = (
    "seq, kind, id, version, parent, deleted, created_ms, created_by, updated_ms, updated_by, data"
)
_INSERT = f"INSERT INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# A new version supersedes whatever was the latest (even past a skipped, corrupt line).
_SUPERSEDE = (
    "UPDATE records SET next_seq = ? WHERE kind = ? AND id = ? AND next_seq IS NULL AND seq < ?"
)
_SET_OFFSET = (
    "INSERT INTO record_segments (name, offset, line) VALUES (?, ?, ?) ON CONFLICT(name) "
    "DO UPDATE SET offset = excluded.offset, line = excluded.line"
)


@dataclass
class RecordIndexStats:
    lines: int = 0
    records: int = 0
    skipped_lines: int = 0


def _insert(
    conn: sqlite3.Connection,
    records: Sequence[Record],
    texts: Sequence[str],
    heads: Mapping[tuple[str, str], Head] | None = None,
) -> None:
    """Insert the rows and mark the versions they replace (by row id where the writer knew
    the latest version from ``heads``, else by looking it up)."""
    conn.executemany(_INSERT, _rows(records, texts))
    latest = {key: head.sequence for key, head in (heads or {}).items() if head.sequence}
    by_rowid, by_key = [], []
    for r in records:
        key = (r.kind, r.id)
        if r.version > 1:
            previous = latest.get(key)
            if previous is not None:
                by_rowid.append((r.sequence, previous))
            else:
                by_key.append((r.sequence, r.kind, r.id, r.sequence))
        latest[key] = r.sequence
    conn.executemany("UPDATE records SET next_seq = ? WHERE seq = ?", by_rowid)
    conn.executemany(_SUPERSEDE, by_key)


def _rows(records: Sequence[Record], texts: Sequence[str]) -> list[tuple[object, ...]]:
    return [
        (
            r.sequence,
            r.kind,
            r.id,
            r.version,
            r.parent,
            int(r.deleted),
            r.created_time_ms,
            r.created_by,
            r.updated_time_ms,
            r.updated_by,
            text,
        )
        for r, text in zip(records, texts)
    ]


_decode = json.JSONDecoder().raw_decode


def _record(row: Sequence[Any]) -> Record:
    seq, kind, rid, version, parent, deleted, c_ms, c_by, u_ms, u_by, data = row
    return build_record(
        kind, rid, version, seq, _decode(data)[0], parent, bool(deleted), c_ms, c_by, u_ms, u_by
    )


# -- catching up -----------------------------------------------------------------------------
def update(conn: sqlite3.Connection, records_dir: Path) -> RecordIndexStats:
    """Index every complete line of the record segments not indexed yet."""
    stats = RecordIndexStats()
    offsets = dict(conn.execute("SELECT name, offset FROM record_segments").fetchall())
    for _, path in list_segments(records_dir):
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if size > offsets.get(path.name, 0):
            while _index_chunk(conn, path, stats):
                pass
    return stats


def _index_chunk(conn: sqlite3.Connection, path: Path, stats: RecordIndexStats) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT offset, line FROM record_segments WHERE name = ?", (path.name,)
        ).fetchone()
        cursor = LineCursor(*row) if row else LineCursor()
        more = False
        start = cursor.offset
        for raw in complete_lines(path, cursor):
            stats.lines += 1
            if raw.strip():
                _index_line(conn, raw, path, cursor.line, stats)
            if cursor.offset - start >= CHUNK_BYTES:
                more = True
                break
        conn.execute(_SET_OFFSET, (path.name, cursor.offset, cursor.line))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return more


def _index_line(
    conn: sqlite3.Connection, raw: bytes, path: Path, line_no: int, stats: RecordIndexStats
) -> None:
    try:
        records = decode_line(raw)
        texts = [json_text(r.data) for r in records]
    except (ValueError, RecursionError) as exc:
        _skip(stats, path, line_no, str(exc))
        return
    conn.execute("SAVEPOINT line")
    try:
        _insert(conn, records, texts)
    except sqlite3.IntegrityError as exc:
        conn.execute("ROLLBACK TO line")
        _skip(stats, path, line_no, f"its versions clash with stored ones ({exc})")
    else:
        stats.records += len(records)
    conn.execute("RELEASE line")


def _skip(stats: RecordIndexStats, path: Path, line_no: int, why: str) -> None:
    stats.skipped_lines += 1
    logger.warning("skipping corrupt record line %d of %s: %s", line_no, path, why[:200])


def add_written(
    conn: sqlite3.Connection,
    appended: Appended,
    records: Sequence[Record],
    texts: Sequence[str],
    heads: Mapping[tuple[str, str], Head],
) -> bool:
    """Index a batch its writer just appended (still holding the writer lock) without reading
    it back. Returns False when the caller must catch up instead (a torn line was closed
    before it, or the segment's offset is not where the batch starts)."""
    if appended.closed_torn_line:
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT offset, line FROM record_segments WHERE name = ?", (appended.path.name,)
        ).fetchone()
        offset, line_no = row if row else (0, 0)
        if offset != appended.start:
            conn.execute("ROLLBACK")
            return False
        _insert(conn, records, texts, heads)
        conn.execute(_SET_OFFSET, (appended.path.name, appended.end, line_no + 1))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


# -- queries -----------------------------------------------------------------------------------
def next_sequence(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(seq) FROM records").fetchone()
    return int(row[0] or 0) + 1


def heads(conn: sqlite3.Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Head]:
    """The latest stored version of each (kind, id) that has one."""
    by_kind: dict[str, list[str]] = {}
    for kind, rid in set(keys):
        by_kind.setdefault(kind, []).append(rid)
    result: dict[tuple[str, str], Head] = {}
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), _LOOKUP):
            part = ids[start : start + _LOOKUP]
            marks = ", ".join("?" * len(part))
            for rid, version, deleted, parent, c_ms, c_by, seq in conn.execute(
                "SELECT id, version, deleted, parent, created_ms, created_by, seq FROM records "
                f"WHERE kind = ? AND id IN ({marks}) AND next_seq IS NULL",
                [kind, *part],
            ):
                result[(kind, rid)] = Head(version, bool(deleted), parent, c_ms, c_by, seq)
    return result


def get(conn: sqlite3.Connection, kind: str, record_id: str, version: int | None) -> Record | None:
    """A version of a record (None: the latest), or None."""
    if version is None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE kind = ? AND id = ? "
            "ORDER BY version DESC LIMIT 1",
            (kind, record_id),
        ).fetchone()
    else:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE kind = ? AND id = ? AND version = ?",
            (kind, record_id, version),
        ).fetchone()
    return None if row is None else _record(row)


def history(conn: sqlite3.Connection, kind: str, record_id: str) -> list[Record]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM records WHERE kind = ? AND id = ? ORDER BY version",
        (kind, record_id),
    )
    with gc_paused():
        return [_record(row) for row in rows]


def listing(
    conn: sqlite3.Connection,
    kind: str,
    parent: str | None,
    as_of: int | None,
    include_deleted: bool,
    after: str | None = None,
    limit: int | None = None,
    changed_after: int | None = None,
) -> list[Record]:
    """The latest version (with a sequence up to ``as_of``) of every record of a kind (and
    parent), by id (only ids after ``after``; at most ``limit``; only records whose latest
    version has a sequence above ``changed_after``). One range scan of an index in id order:
    a version is the one seen as of S when ``seq <= S < next_seq``."""
    where: list[str] = ["kind = ?"]
    params: list[object] = [kind]
    if parent is not None:
        where.append("parent = ?")
        params.append(parent)
    if after is not None:
        where.append("id > ?")
        params.append(after)
    if changed_after is not None:  # (the row selected below is the record's latest version)
        where.append("seq > ?")
        params.append(changed_after)
    if as_of is None:
        where.append("next_seq IS NULL")
    else:
        where.append("seq <= ? AND (next_seq IS NULL OR next_seq > ?)")
        params += [as_of, as_of]
    if not include_deleted:
        where.append("deleted = 0")
    index = "records_parent" if parent is not None else "records_version"
    page = "" if limit is None else f" LIMIT {int(limit)}"
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM records INDEXED BY {index} WHERE {' AND '.join(where)} "
        f"ORDER BY id{page}",
        params,
    )
    with gc_paused():
        return [_record(row) for row in rows]


def max_sequence(conn: sqlite3.Connection) -> int:
    return next_sequence(conn) - 1
