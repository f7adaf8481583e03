"""What PostgreSQL cannot store as text, made storable: NUL characters and lone surrogates.

PostgreSQL ``text`` holds any Unicode except U+0000, and a Python string with a lone
surrogate (``"\\ud800"``, which JSON can carry) has no UTF-8 form at all. The exact values
always survive: span data and records are JSON, where both travel as ``\\u`` escapes
(``json_column``). The columns that exist only to be searched, sorted or shown in a list
(names, ids, attribute values, previews) get U+FFFD in their place (``column``), and so
does every text parameter of a query (``params``), so a filter on such a value still
finds it. Long values in indexed columns are cut (``indexed``): a B-tree entry holds at
most about 2,700 bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

REPLACEMENT = "\ufffd"
#: Characters kept of a value in a B-tree indexed column (4 bytes each at most, well under
#: the ~2,700 bytes an index entry may take).
MAX_INDEXED_CHARS = 512
_ASCII_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=True)


def column(value: str) -> str:
    """``value`` with NULs and lone surrogates replaced by U+FFFD."""
    if value.isascii():
        return value.replace("\x00", REPLACEMENT) if "\x00" in value else value
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        # "surrogatepass" then "replace" turns each lone surrogate (3 bytes) into U+FFFD
    return value


def optional(value: str | None) -> str | None:
    return None if value is None else column(value)


def indexed(value: str | None) -> str | None:
    """A value of a B-tree indexed column: storable and at most ``MAX_INDEXED_CHARS``."""
    if value is None:
        return None
    return column(value[:MAX_INDEXED_CHARS] if len(value) > MAX_INDEXED_CHARS else value)


def json_column(text: str) -> str:
    """JSON text as PostgreSQL can store it, decoding to the same value: unchanged unless
    it holds a lone surrogate, then re-encoded with ASCII escapes (NUL is always escaped
    in JSON)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _ASCII_JSON.encode(json.loads(text))
    return text


def params(values: Iterable[Any]) -> list[Any]:
    """Query parameters with every string made storable (``column``), so that a filter
    value compares with the stored form of the same value."""
    return [column(v) if isinstance(v, str) else v for v in values]


def search_text(value: str) -> str:
    """The full-text form of a value: case-folded (Unicode rules, so ``STRASSE`` finds
    ``straße`` and ``CAFÉ`` finds ``café``), then storable."""
    return column(value.casefold())
