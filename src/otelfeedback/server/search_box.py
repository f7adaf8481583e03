"""The traces page's search box: the filter grammar, or plain words searched as full text.

People type words. Text that parses as a filter is a filter; text that does not, and does
not start like one (a known field followed by an operator), is plain words: each word (or
``"quoted phrase"``) must occur in the trace's inputs or outputs, case-insensitively
(``trace.text ILIKE '%word%'``, joined by ``AND``). A filter that starts like one but does not
parse keeps its error, which points at the offending token.

>>> read_search("refund policy").filter
"trace.text ILIKE '%refund%' AND trace.text ILIKE '%policy%'"
>>> read_search("status = 'ERROR'").mode
'filter'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from otelfeedback.errors import FilterSyntaxError
from otelfeedback.store.query import fields as f
from otelfeedback.store.query import parse_filter

#: Most words a plain-word search takes (each is one full-text condition).
MAX_WORDS = 12
_WORDS = re.compile(r'"([^"]*)"|(\S+)')
_OPERATOR = re.compile(
    r"\s*(=|!=|<>|<=|>=|<|>|(?:NOT\s+)?I?LIKE\b|(?:NOT\s+)?IN\b|IS\b)", re.IGNORECASE
)
_FIELD = re.compile(r"\s*\(*\s*(?:NOT\s+)?(`[^`]*`|[A-Za-z_][\w.]*(?:\.`[^`]*`)?)", re.IGNORECASE)


@dataclass(frozen=True)
class Search:
    """What the box holds: ``mode`` is ``"empty"``, ``"filter"`` or ``"words"``; ``filter``
    is what the store is asked (None when empty or in error)."""

    text: str
    mode: str
    filter: str | None
    words: tuple[str, ...] = ()
    error: str | None = None
    position: int | None = field(default=None)


def _known_field(name: str) -> bool:
    name = name.strip("`")
    prefix, dot, _rest = name.partition(".")
    if dot and prefix.lower() in f.PREFIXES:
        return True
    key = name.lower()
    return key in f.TRACE_FIELDS or key in f.TRACE_ALIASES


def looks_like_filter(text: str) -> bool:
    """Whether ``text`` starts like a filter: an opening parenthesis, or a known field
    followed by an operator."""
    if text.lstrip().startswith("("):
        return True
    match = _FIELD.match(text)
    if not match or not _known_field(match.group(1)):
        return False
    return _OPERATOR.match(text, match.end()) is not None


def _like_literal(word: str) -> str:
    """``word`` inside a quoted LIKE pattern: wildcards and backslashes escaped (the string's
    escape doubles each backslash), quotes doubled."""
    escaped = word.replace("\\", "\\\\\\\\").replace("%", "\\\\%").replace("_", "\\\\_")
    return escaped.replace("'", "''")


def words_filter(words: tuple[str, ...]) -> str:
    """The full-text filter for plain words: every word somewhere in the text."""
    return " AND ".join(f"trace.text ILIKE '%{_like_literal(w)}%'" for w in words)


@lru_cache(maxsize=128)
def read_search(text: str, grammar_only: bool = False) -> Search:
    """How the box's ``text`` is searched (see the module docstring); with
    ``grammar_only`` (the ``filter=`` parameter) it is always a filter."""
    text = text.strip()
    if not text:
        return Search(text, "empty", None)
    try:
        parse_filter(text)
    except FilterSyntaxError as exc:
        if grammar_only or looks_like_filter(text):
            return Search(text, "filter", None, error=str(exc), position=exc.position)
    else:
        return Search(text, "filter", text)
    words = tuple(
        dict.fromkeys(
            (m.group(1) if m.group(1) is not None else m.group(2)).strip()
            for m in _WORDS.finditer(text)
        )
    )
    words = tuple(w for w in words if w)[:MAX_WORDS]
    if not words:
        return Search(text, "empty", None)
    return Search(text, "words", words_filter(words), words)


def suggestions(assessment_names: dict[str, list[str]]) -> list[str]:
    """What the box's autocomplete offers as fields: the trace fields, the span fields and
    one ``feedback.<name>`` / ``expectation.<name>`` per assessment name in the store."""
    fields = [f"trace.{k}" for k in f.TRACE_FIELDS]
    fields += [f"span.{k}" for k in f.SPAN_FIELDS if k not in ("trace_id", "span_id")]
    fields += ["span.attributes.", "tags.", "metadata."]
    for kind in ("feedback", "expectation"):
        for name in assessment_names.get(kind, []):
            quoted = name if re.fullmatch(r"[A-Za-z_][\w]*", name) else f"`{name}`"
            fields.append(f"{kind}.{quoted}")
    return fields
