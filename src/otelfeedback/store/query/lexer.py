"""Tokens of the search filter language (see ``docs/search.md``).

Numbers are what every SQL store binds: an integer literal must fit in 64 bits (-2^63 to
2^63-1) and a decimal must be a finite double; anything else is a ``FilterSyntaxError``
rather than a value silently rounded or an overflow in the database driver. A filter is
Unicode text: a lone surrogate in it is refused the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from otelfeedback.errors import FilterSyntaxError

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "TRUE", "FALSE"})
OPERATORS = ("<=", ">=", "!=", "<>", "=", "<", ">")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD_CHARS = _WORD_START | frozenset("0123456789-:/@")
_DIGITS = frozenset("0123456789")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Token:
    """``kind`` is ``ident`` (a dotted field path, ``parts`` holds its pieces), ``keyword``,
    ``string``, ``number``, ``op``, ``(``, ``)``, ``,`` or ``eof``."""

    kind: str
    text: str
    position: int
    parts: tuple[str, ...] = ()
    value: object = None


def _quoted(source: str, start: int, quote: str) -> tuple[str, int]:
    """Read a quoted string starting at ``start``; a doubled quote or a backslash escapes."""
    out: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            out.append(source[i + 1])
            i += 2
            continue
        if char == quote:
            if i + 1 < len(source) and source[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(char)
        i += 1
    what = "backtick-quoted name" if quote == "`" else "string"
    raise FilterSyntaxError(source, start, f"unterminated {what}")


def _word(source: str, i: int) -> int:
    while i < len(source) and source[i] in _WORD_CHARS:
        i += 1
    return i


def _number_end(source: str, i: int) -> int:
    j = i + 1 if source[i] in "+-" else i
    while j < len(source) and (source[j] in _DIGITS or source[j] == "."):
        j += 1
    if j < len(source) and source[j] in "eE":
        k = j + 1
        if k < len(source) and source[k] in "+-":
            k += 1
        if k < len(source) and source[k] in _DIGITS:
            j = k
            while j < len(source) and source[j] in _DIGITS:
                j += 1
    return j


def _number(source: str, start: int, raw: str) -> int | float:
    """The value of the number ``raw`` at ``start``: a 64-bit integer or a finite double."""
    if raw.lstrip("+-").isdigit():
        # past 4,300 digits int() refuses to convert: out of range all the same
        value = int(raw) if len(raw) <= 40 else INT64_MAX + 1
        if not INT64_MIN <= value <= INT64_MAX:
            raise FilterSyntaxError(
                source,
                start,
                f"integer {raw[:40]}{'...' if len(raw) > 40 else ''} out of range: integers "
                "in filters fit in 64 bits (-9223372036854775808 to 9223372036854775807); "
                "write a decimal such as 1e20 to compare as a double",
            )
        return value
    try:
        number = float(raw)
    except ValueError:
        raise FilterSyntaxError(source, start, f"malformed number {raw!r}") from None
    if not math.isfinite(number):
        raise FilterSyntaxError(
            source, start, f"number {raw!r} out of range: decimals must be finite doubles"
        )
    return number


def _check_text(source: str) -> None:
    """Refuse a lone surrogate (not Unicode text: no database can bind it)."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FilterSyntaxError(
            source.encode("utf-8", "backslashreplace").decode("ascii", "replace"),
            exc.start,
            f"lone surrogate {source[exc.start]!r}: a filter must be valid Unicode text",
        ) from None


def _identifier(source: str, start: int) -> tuple[Token, int]:
    """A keyword, or a field path: names (or backtick-quoted names) joined by dots."""
    n = len(source)
    i = start
    parts: list[str] = []
    while True:
        if i < n and source[i] == "`":
            text, i = _quoted(source, i, "`")
            parts.append(text)
        elif i < n and (source[i] in _WORD_START or (parts and source[i] in _WORD_CHARS)):
            end = _word(source, i)
            parts.append(source[i:end])
            i = end
        else:
            raise FilterSyntaxError(source, i, "expected a name after '.'")
        if i < n and source[i] == "." and i + 1 < n and not source[i + 1].isspace():
            i += 1
            continue
        break
    text = source[start:i]
    if len(parts) == 1 and source[start] != "`" and text.upper() in KEYWORDS:
        return Token("keyword", text.upper(), start), i
    return Token("ident", text, start, tuple(parts)), i


def tokenize(source: str) -> list[Token]:
    """Split a filter into tokens; raise ``FilterSyntaxError`` at a character that cannot
    start one."""
    _check_text(source)
    tokens: list[Token] = []
    i = 0
    n = len(source)
    while i < n:
        char = source[i]
        if char.isspace():
            i += 1
            continue
        if char in "(),":
            tokens.append(Token(char, char, i))
            i += 1
            continue
        op = next((o for o in OPERATORS if source.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("op", "!=" if op == "<>" else op, i))
            i += len(op)
            continue
        if char in "'\"":
            text, end = _quoted(source, i, char)
            tokens.append(Token("string", source[i:end], i, value=text))
            i = end
            continue
        if char in _DIGITS or (char in "+-." and i + 1 < n and source[i + 1] in _DIGITS):
            end = _number_end(source, i)
            raw = source[i:end]
            tokens.append(Token("number", raw, i, value=_number(source, i, raw)))
            i = end
            continue
        if char in _WORD_START or char == "`":
            token, i = _identifier(source, i)
            tokens.append(token)
            continue
        raise FilterSyntaxError(source, i, f"unexpected character {char!r}")
    tokens.append(Token("eof", "", n))
    return tokens
