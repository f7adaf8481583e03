"""The few places where SQL differs between the stores that share the query compiler."""

from __future__ import annotations

from typing import Protocol


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

    def text_search(self) -> str:
        """SQL selecting the ``trace_id`` of traces whose span inputs/outputs match one
        (case-insensitive) LIKE pattern parameter."""
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


class SQLiteDialect:
    """SQLite: LIKE is case-sensitive through GLOB, ILIKE is SQLite's (ASCII) LIKE, full text
    uses the FTS5 trigram index ``span_text``."""

    placeholder = "?"

    def like(self, column: str, *, case_insensitive: bool) -> str:
        if case_insensitive:
            return f"{column} LIKE ? ESCAPE '\\'"
        return f"{column} GLOB ?"

    def like_param(self, pattern: str, *, case_insensitive: bool) -> str:
        return pattern if case_insensitive else like_to_glob(pattern)

    def text_search(self) -> str:
        return "SELECT trace_id FROM span_text WHERE body LIKE ? ESCAPE '\\'"


class PostgresDialect:
    """PostgreSQL: native LIKE / ILIKE; full text over the spans' ``body`` column (give it a
    ``pg_trgm`` GIN index)."""

    placeholder = "%s"

    def like(self, column: str, *, case_insensitive: bool) -> str:
        return f"{column} {'ILIKE' if case_insensitive else 'LIKE'} %s"

    def like_param(self, pattern: str, *, case_insensitive: bool) -> str:
        return pattern

    def text_search(self) -> str:
        return "SELECT trace_id FROM span_text WHERE body ILIKE %s"
