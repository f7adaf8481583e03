"""Tokens of the search filter language (see ``docs/search.md``)."""

from __future__ import annotations

from dataclasses import dataclass

from otelfeedback.errors import FilterSyntaxError

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "TRUE", "FALSE"})
OPERATORS = ("<=", ">=", "!=", "<>", "=", "<", ">")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD_CHARS = _WORD_START | frozenset("0123456789-:/@")


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


def _number(source: str, i: int) -> int:
    j = i + 1 if source[i] in "+-" else i
    while j < len(source) and (source[j].isdigit() or source[j] == "."):
        j += 1
    if j < len(source) and source[j] in "eE":
        k = j + 1
        if k < len(source) and source[k] in "+-":
            k += 1
        if k < len(source) and source[k].isdigit():
            j = k
            while j < len(source) and source[j].isdigit():
                j += 1
    return j


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
        if char.isdigit() or (char in "+-." and i + 1 < n and (source[i + 1].isdigit())):
            end = _number(source, i)
            raw = source[i:end]
            try:
                number: float | int = int(raw)
            except ValueError:
                try:
                    number = float(raw)
                except ValueError:
                    raise FilterSyntaxError(source, i, f"malformed number {raw!r}") from None
            tokens.append(Token("number", raw, i, value=number))
            i = end
            continue
        if char in _WORD_START or char == "`":
            token, i = _identifier(source, i)
            tokens.append(token)
            continue
        raise FilterSyntaxError(source, i, f"unexpected character {char!r}")
    tokens.append(Token("eof", "", n))
    return tokens
