"""Bulk loads: an empty index that is about to read a large backlog builds its secondary
indexes at the end instead of row by row.

Filling a B-tree by inserting rows in key order of another column puts every insert at a
random place; sorting once at the end is cheaper (about 1 s of 26 s at 100,000 traces). Only
indexes that no indexing query reads are deferred (never a UNIQUE one). Search results do
not depend on them, only its speed: readers in other processes see the same rows during the
load, found more slowly.

The definitions of the dropped indexes are kept in ``_deferred_indexes``, in the transaction
that drops them, and every ``update`` first recreates whatever is listed there, so an
interrupted load (a crash, a ``KeyboardInterrupt``) leaves nothing missing for long.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

#: Pending bytes from which an empty index is loaded in bulk.
BULK_BYTES = 64 * 1024 * 1024
#: Secondary indexes no indexing query reads.
DEFERRABLE = (
    "traces_start",
    "traces_duration",
    "traces_name",
    "traces_session",
    "spans_type",
    "spans_name",
    "trace_tags_text",
    "trace_metadata_text",
    "trace_text_tid",
)


def is_bulk(conn: sqlite3.Connection, todo: list[tuple[Path, int]]) -> bool:
    """Whether this backlog is a bulk load: an empty index and at least ``BULK_BYTES``."""
    if sum(size for _, size in todo) < BULK_BYTES:
        return False
    return _is_empty(conn)


def _is_empty(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM segments WHERE offset > 0 LIMIT 1").fetchone() is None


def defer_indexes(conn: sqlite3.Connection) -> bool:
    """Drop the deferrable indexes, remembering them. Returns False (and changes nothing)
    when another process has begun indexing in the meantime."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _is_empty(conn):
            conn.execute("COMMIT")
            return False
        marks = ", ".join("?" * len(DEFERRABLE))
        found = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks})",
            DEFERRABLE,
        ).fetchall()
        for name, sql in found:
            conn.execute("INSERT OR REPLACE INTO _deferred_indexes VALUES (?, ?)", (name, sql))
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def restore_indexes(conn: sqlite3.Connection) -> None:
    """Recreate the indexes a bulk load deferred (this one's, or an interrupted one's)."""
    if conn.execute("SELECT 1 FROM _deferred_indexes LIMIT 1").fetchone() is None:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name, sql in conn.execute("SELECT name, sql FROM _deferred_indexes").fetchall():
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
            ).fetchone()
            if exists is None:
                conn.execute(sql)
        conn.execute("DELETE FROM _deferred_indexes")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
