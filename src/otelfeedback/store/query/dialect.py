"""The few places where SQL differs between the stores that share the query compiler."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Protocol

#: Rows the SQLite full-text probe reads before it decides how to search (see
#: ``SQLiteDialect.text_condition``).
TEXT_PROBE_ROWS = 1000
#: Traces an ``IN`` set may hold and still drive the query (see
#: ``SQLiteDialect.membership``).
SET_PROBE_ROWS = 1000


class Dialect(Protocol):
    """What the compiler needs from a database: placeholders, pattern matching, full text."""

    placeholder: str

    def like(self, column: str, *, case_insensitive: bool) -> str:
        """SQL matching ``column`` against one pattern parameter (``%`` and ``_``
        wildcards, ``\\`` escapes)."""
        ...

    def like_param(self, pattern: str, *, case_insensitive: bool) -> str:
        """The parameter value to bind for ``like()``."""
        ...

    def text_condition(self, pattern: str) -> tuple[str, list[Any]]:
        """A condition on ``t`` (traces) that holds when some span input/output of the
        trace matches the LIKE ``pattern`` case-insensitively, and its parameters."""
        ...

    def membership(self, column: str, subquery: str, params: list[Any]) -> str:
        """``column IN (subquery)``, written for the database's planner; ``params`` are the
        subquery's (already bound by the caller)."""
        ...

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text of the top-level ``key`` (a fixed identifier, never user
        input) of the JSON object in ``column``."""
        ...


def like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern to a case-sensitive SQLite GLOB pattern."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            literal = pattern[i + 1]
            out.append(f"[{literal}]" if literal in "*?[" else literal)
            i += 2
            continue
        if char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _relaxed_like(pattern: str) -> str | None:
    """``pattern`` (LIKE with ``\\`` escapes) as a pattern for a LIKE without ESCAPE that
    matches at least as much, or None when it already is one (no backslash)."""
    if "\\" not in pattern:
        return None
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            literal = pattern[i + 1]
            out.append("_" if literal in "%_" else literal)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


class SQLiteDialect:
    """SQLite: LIKE is case-sensitive through GLOB, ILIKE is SQLite's (ASCII) LIKE; full
    text uses ``trace_text`` and its FTS5 trigram index ``trace_fts``.

    With a connection, a full-text condition is planned from a probe of the index (see
    ``text_condition``); without one it always reads the index."""

    placeholder = "?"

    def __init__(self, conn: sqlite3.Connection | None = None) -> None:
        self.conn = conn

    def like(self, column: str, *, case_insensitive: bool) -> str:
        if case_insensitive:
            return f"{column} LIKE ? ESCAPE '\\'"
        return f"{column} GLOB ?"

    def like_param(self, pattern: str, *, case_insensitive: bool) -> str:
        return pattern if case_insensitive else like_to_glob(pattern)

    def membership(self, column: str, subquery: str, params: list[Any]) -> str:
        """``column IN (subquery)``, or ``+column IN (subquery)`` when the set is large.

        SQLite's planner drives such a query from the set (one lookup per member, then a
        sort), which is right for a few members and slow for many (a thumbs-down on 6% of
        100,000 traces: 6,000 lookups to show 100). The ``+`` keeps it from using the set
        to drive: it walks the traces in the requested order and tests membership, stopping
        after a page. The set's size is probed first, up to ``SET_PROBE_ROWS``."""
        if self.conn is None:
            return f"{column} IN ({subquery})"
        (count,) = self.conn.execute(
            f"SELECT count(*) FROM ({subquery} LIMIT ?)", [*params, SET_PROBE_ROWS]
        ).fetchone()
        return f"{'+' if count >= SET_PROBE_ROWS else ''}{column} IN ({subquery})"

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def text_condition(self, pattern: str) -> tuple[str, list[Any]]:
        """Full text, two ways.

        The trigram index answers ``LIKE`` only without an ``ESCAPE`` clause, so a pattern
        with backslash escapes is relaxed for the index (``\\%`` becomes ``_``) and checked
        exactly on the text. The index is fast when few traces match; when many do, reading
        its whole answer before ordering is the slow part (every trace has the common
        trigrams), while walking the traces in the requested order and checking each one's
        text stops after a page. So the matching rows are probed first, at most
        ``TEXT_PROBE_ROWS``: fewer means the complete answer is in hand and becomes the
        condition; as many means the pattern is common and the traces are walked."""
        relaxed = _relaxed_like(pattern)
        index_sql = (
            "SELECT x.tid FROM trace_fts f JOIN trace_text x ON x.id = f.rowid WHERE f.body LIKE ?"
        )
        index_params: list[Any] = [pattern if relaxed is None else relaxed]
        if relaxed is not None:
            index_sql += " AND x.body LIKE ? ESCAPE '\\'"
            index_params.append(pattern)
        if self.conn is None:
            return f"t.id IN ({index_sql})", index_params
        found = [
            row[0]
            for row in self.conn.execute(f"{index_sql} LIMIT ?", [*index_params, TEXT_PROBE_ROWS])
        ]
        if len(found) < TEXT_PROBE_ROWS:
            return "t.id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(set(found)))]
        return (
            "EXISTS (SELECT 1 FROM trace_text x WHERE x.tid = t.id AND x.body LIKE ? ESCAPE '\\')",
            [pattern],
        )


class PostgresDialect:
    """PostgreSQL: native LIKE / ILIKE; full text over ``trace_text.body`` (give it a
    ``pg_trgm`` GIN index)."""

    placeholder = "%s"

    def like(self, column: str, *, case_insensitive: bool) -> str:
        return f"{column} {'ILIKE' if case_insensitive else 'LIKE'} %s"

    def like_param(self, pattern: str, *, case_insensitive: bool) -> str:
        return pattern

    def membership(self, column: str, subquery: str, params: list[Any]) -> str:
        return f"{column} IN ({subquery})"

    def json_text(self, column: str, key: str) -> str:
        return f"({column}::jsonb ->> '{key}')"

    def text_condition(self, pattern: str) -> tuple[str, list[Any]]:
        return "t.id IN (SELECT tid FROM trace_text WHERE body ILIKE %s)", [pattern]
