"""Records that are not spans (``store/records.py``) in PostgreSQL: the ``records`` table.

The model, the checks and the version planning are the shared ones; this module only stores
and queries. A batch is written in one transaction under one advisory lock, so versions and
the store-wide sequence are assigned atomically and in commit order across every process and
host (a reader listing ``as_of`` a sequence sees a snapshot that no later commit changes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from otelfeedback.store.records import Head, Record
from otelfeedback.store.sql import text as pg

#: Advisory lock key held while a batch of records is planned and written.
RECORDS_LOCK = 0x6F74_6566_0004
COLUMNS = (
    "seq, kind, id, version, parent, deleted, created_ms, created_by, updated_ms, updated_by, data"
)
_TYPES = (
    "bigint",
    "text",
    "text",
    "integer",
    "text",
    "boolean",
    "bigint",
    "text",
    "bigint",
    "text",
    "text",
)


def lock(conn: Any) -> None:
    """Take the records lock for the current transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (RECORDS_LOCK,))


def next_sequence(conn: Any) -> int:
    row = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM records").fetchone()
    return int(row[0])


def max_sequence(conn: Any) -> int:
    return next_sequence(conn) - 1


def heads(conn: Any, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Head]:
    """The latest stored version of each (kind, id) that has one."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = conn.execute(
        "SELECT DISTINCT ON (r.kind, r.id) r.kind, r.id, r.version, r.deleted, r.parent, "
        "r.created_ms, r.created_by FROM records r "
        "JOIN unnest(%s::text[], %s::text[]) AS w(kind, id) ON r.kind = w.kind AND r.id = w.id "
        "ORDER BY r.kind, r.id, r.seq DESC",
        ([k for k, _ in wanted], [i for _, i in wanted]),
    )
    return {
        (kind, rid): Head(version, deleted, parent, created_ms, created_by)
        for kind, rid, version, deleted, parent, created_ms, created_by in rows
    }


def insert(
    conn: Any, records: Sequence[Record], texts: Sequence[str], *, skip_stored: bool = False
) -> int:
    """Insert stored versions (``texts``: each record's ``json_text(data)``); with
    ``skip_stored``, versions whose sequence is stored already are skipped. Returns the
    number inserted."""
    rows = [
        (
            r.sequence,
            r.kind,
            r.id,
            r.version,
            r.parent,
            r.deleted,
            r.created_time_ms,
            pg.optional(r.created_by),
            r.updated_time_ms,
            pg.optional(r.updated_by),
            text,
        )
        for r, text in zip(records, texts)
    ]
    arrays = [list(column) for column in zip(*rows)]
    unnest = ", ".join(f"%s::{t}[]" for t in _TYPES)
    suffix = " ON CONFLICT (seq) DO NOTHING" if skip_stored else ""
    cur = conn.execute(
        f"INSERT INTO records ({COLUMNS}) SELECT * FROM unnest({unnest}){suffix}", arrays
    )
    return int(cur.rowcount)


def record(row: Sequence[Any]) -> Record:
    seq, kind, rid, version, parent, deleted, c_ms, c_by, u_ms, u_by, data = row
    return Record(
        kind, rid, version, seq, json.loads(data), parent, deleted, c_ms, c_by, u_ms, u_by
    )


def get(conn: Any, kind: str, record_id: str, version: int | None) -> Record | None:
    """A version of a record (None: the latest), or None."""
    if version is None:
        row = conn.execute(
            f"SELECT {COLUMNS} FROM records WHERE kind = %s AND id = %s ORDER BY seq DESC LIMIT 1",
            (kind, record_id),
        ).fetchone()
    else:
        row = conn.execute(
            f"SELECT {COLUMNS} FROM records WHERE kind = %s AND id = %s AND version = %s",
            (kind, record_id, version),
        ).fetchone()
    return None if row is None else record(row)


def history(conn: Any, kind: str, record_id: str) -> list[Record]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM records WHERE kind = %s AND id = %s ORDER BY seq",
        (kind, record_id),
    )
    return [record(row) for row in rows]


def listing(
    conn: Any,
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
    version has a sequence above ``changed_after``)."""
    where = ["kind = %s"]
    params: list[Any] = [kind]
    if parent is not None:
        where.append("parent = %s")
        params.append(parent)
    if as_of is not None:
        where.append("seq <= %s")
        params.append(as_of)
    if after is not None:
        where.append("id > %s")
        params.append(after)
    latest = (
        f"SELECT DISTINCT ON (id) {COLUMNS} FROM records WHERE {' AND '.join(where)} "
        "ORDER BY id, seq DESC"
    )
    kept = [] if include_deleted else ["NOT m.deleted"]
    if changed_after is not None:
        kept.append("m.seq > %s")
        params.append(changed_after)
    alive = f"WHERE {' AND '.join(kept)}" if kept else ""
    page = ""
    if limit is not None:
        page = " LIMIT %s"
        params.append(int(limit))
    rows = conn.execute(f"SELECT * FROM ({latest}) m {alive} ORDER BY m.id{page}", params)
    return [record(row) for row in rows]
