"""The few places where SQL differs between the stores that share the query compiler."""

from __future__ import annotations

import json
import re
import sqlite3
from functools import lru_cache
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

    def __init__(self, conn: sqlite3.Connection | None = None, *, aggregate: bool = False) -> None:
        self.conn = conn
        #: For a query that reads every match (an aggregate, not a page): sets of traces
        #: always drive it (see ``membership``).
        self.aggregate = aggregate
        #: Set when a full-text condition walks the traces (the index could not narrow
        #: it): counting all its matches would read every trace's text.
        self.walked = False

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
        if self.conn is None or self.aggregate:
            return f"{column} IN ({subquery})"
        (count,) = self.conn.execute(
            f"SELECT count(*) FROM ({subquery} LIMIT ?)", [*params, SET_PROBE_ROWS]
        ).fetchone()
        return f"{'+' if count >= SET_PROBE_ROWS else ''}{column} IN ({subquery})"

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def text_condition(self, pattern: str) -> tuple[str, list[Any]]:
        """Full text, case-insensitive, two ways.

        The trigram index answers ``LIKE`` only without an ``ESCAPE`` clause, so a pattern
        with backslash escapes is relaxed for the index (``\\%`` becomes ``_``) and checked
        exactly on the text. The index is fast when few traces match; when many do, reading
        its whole answer before ordering is the slow part (every trace has the common
        trigrams), while walking the traces in the requested order and checking each one's
        text stops after a page. So the matching rows are probed first, at most
        ``TEXT_PROBE_ROWS``: fewer means the complete answer is in hand and becomes the
        condition; as many means the pattern is common and the traces are walked.

        SQLite's ``LIKE`` folds ASCII letters only, and the index holds trigrams, so two
        kinds of pattern take another way (``text_match``): one with non-ASCII characters
        is checked by ``otelfeedback_ilike`` (Unicode case folding: ``%ÉCOLE%`` finds
        "école"), with the index narrowing the candidates by the trigrams of its literal
        runs (the index folds case too); one with no literal run of three characters
        (``%東京%``, ``%🚀%``) cannot use the index at all, and the traces are walked."""
        if self.conn is None:
            sql, params = text_match(pattern)
            return f"t.id IN (SELECT x.tid FROM trace_text x WHERE {sql})", params
        trigrams = _trigram_query(pattern)
        if trigrams is None:  # no run of three literal characters: no trigram to look up
            return self._short_pattern(pattern)
        if pattern.isascii():
            relaxed = _relaxed_like(pattern)
            index_sql = (
                "SELECT x.tid FROM trace_fts f JOIN trace_text x ON x.id = f.rowid "
                "WHERE f.body LIKE ?"
            )
            index_params: list[Any] = [pattern if relaxed is None else relaxed]
            if relaxed is not None:
                index_sql += " AND x.body LIKE ? ESCAPE '\\'"
                index_params.append(pattern)
        else:
            install_ilike(self.conn)
            check, check_params = text_match(pattern)
            index_sql = (
                "SELECT x.tid FROM trace_fts JOIN trace_text x ON x.id = trace_fts.rowid "
                f"WHERE trace_fts MATCH ? AND {check}"
            )
            index_params = [trigrams, *check_params]
        found = [
            row[0]
            for row in self.conn.execute(f"{index_sql} LIMIT ?", [*index_params, TEXT_PROBE_ROWS])
        ]
        if len(found) < TEXT_PROBE_ROWS:
            return "t.id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(set(found)))]
        return self._walk(pattern)

    def _short_pattern(self, pattern: str) -> tuple[str, list[Any]]:
        """A pattern whose longest literal run has one or two characters (``%東京%``).

        Every text ends with ``TEXT_END`` (two characters), so each occurrence of the run
        starts some trigram: the texts holding a trigram that starts with the run (a range
        of the index's terms, read through ``trace_fts_terms``) are the candidates, checked
        one by one. A run so common that ``TEXT_PROBE_ROWS`` texts hold it is walked."""
        assert self.conn is not None
        runs = _literal_runs(pattern)
        if not runs:  # only wildcards
            return self._walk(pattern)
        run = max(runs, key=len).lower()  # the index folds case like lower()
        docs = [
            row[0]
            for row in self.conn.execute(
                "SELECT DISTINCT doc FROM trace_fts_terms WHERE term >= ? AND term < ? LIMIT ?",
                [run, run + "\U0010ffff", TEXT_PROBE_ROWS],
            )
        ]
        if len(docs) >= TEXT_PROBE_ROWS:
            return self._walk(pattern)
        if any(not c.isascii() for c in pattern):
            install_ilike(self.conn)
        check, check_params = text_match(pattern)
        found = [
            row[0]
            for row in self.conn.execute(
                "SELECT x.tid FROM trace_text x WHERE x.id IN (SELECT value FROM json_each(?)) "
                f"AND {check}",
                [json.dumps(docs), *check_params],
            )
        ]
        return "t.id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(set(found)))]

    def _walk(self, pattern: str) -> tuple[str, list[Any]]:
        """Check each trace's text in the requested order (stops when the page is full)."""
        self.walked = True
        if self.conn is not None:
            install_ilike(self.conn)
        sql, params = text_match(pattern)
        return f"EXISTS (SELECT 1 FROM trace_text x WHERE x.tid = t.id AND {sql})", params


#: The SQL function behind non-ASCII full-text patterns (see ``install_ilike``).
ILIKE_FUNCTION = "otelfeedback_ilike"


@lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern (``%``, ``_``, ``\\`` escapes) as a case-folding regular expression."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def unicode_ilike(text: str | None, pattern: str | None) -> bool:
    """``text ILIKE pattern`` with Unicode case folding (``None`` matches nothing)."""
    if text is None or pattern is None:
        return False
    return _like_regex(pattern).fullmatch(text) is not None


def install_ilike(conn: sqlite3.Connection) -> None:
    """Define ``otelfeedback_ilike(text, pattern)`` on ``conn`` (cheap; idempotent)."""
    conn.create_function(ILIKE_FUNCTION, 2, unicode_ilike, deterministic=True)


def _has_case_beyond_ascii(pattern: str) -> bool:
    return any(not c.isascii() and c.lower() != c.upper() for c in pattern)


def text_match(pattern: str) -> tuple[str, list[Any]]:
    """A condition on ``x.body`` (``trace_text``): ``x.body`` matches ``pattern``
    case-insensitively. SQLite's LIKE (fast, folds ASCII letters) unless the pattern has
    letters beyond ASCII that have case: then the Unicode-folding function."""
    if not _has_case_beyond_ascii(pattern):
        return "x.body LIKE ? ESCAPE '\\'", [pattern]
    return f"{ILIKE_FUNCTION}(x.body, ?)", [pattern]


def _literal_runs(pattern: str) -> list[str]:
    """The runs of literal characters between the wildcards of a LIKE pattern."""
    runs: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            current.append(pattern[i + 1])
            i += 2
            continue
        if char in "%_":
            runs.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    runs.append("".join(current))
    return [r for r in runs if r]


def _trigram_query(pattern: str) -> str | None:
    """An FTS5 query (trigrams joined by AND) that every text matching ``pattern`` matches,
    or None when the pattern has no literal run of three characters. The index has no
    positions (``detail=none``), so each trigram is its own term."""
    grams: dict[str, None] = {}
    for run in _literal_runs(pattern):
        for i in range(len(run) - 2):
            grams[run[i : i + 3]] = None
    if not grams:
        return None
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


class PostgresDialect:
    """PostgreSQL (``store/sql/``): native LIKE / ILIKE (text columns are ``COLLATE "C"``:
    byte order, ASCII-only ILIKE, as SQLite); full text over ``trace_text.body``, which
    holds case-folded text under a ``pg_trgm`` GIN index, matched with the case-folded
    pattern (so case-insensitive for every script). Written as ``EXISTS``, the planner
    chooses between the trigram index (few matches) and walking the traces in the requested
    order (many)."""

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
        return (
            "EXISTS (SELECT 1 FROM trace_text x WHERE x.tid = t.id AND x.body LIKE %s)",
            [pattern.casefold()],
        )
