"""Turn decoded spans into index rows, and a trace's span rows into its summary row."""

from __future__ import annotations

import json
import json.encoder
import math
from collections.abc import Callable
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback._internal import chat
from otelfeedback._internal.otlp_json.decode import SpanRecord
from otelfeedback._internal.otlp_json.encode import compact_json
from otelfeedback._internal.otlp_json.values import INT64_MAX, INT64_MIN, safe_json
from otelfeedback.store.entities import span_type_of

#: Longest attribute value (as text) kept filterable by ``span.attributes.<key>``.
MAX_ATTR_TEXT = 512
#: Characters of each input / output value covered by full-text search.
MAX_TEXT_CHARS = 4096
PREVIEW_CHARS = 1000
#: Appended to every full-text body, so that each occurrence of a one- or two-character
#: pattern begins a trigram of the index (see ``SQLiteDialect._short_pattern``).
TEXT_END = "\n\n"
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
#: Not indexed as span attributes: searched as text, as tags / metadata, or by ``span.type``.
_NOT_FILTERABLE = frozenset(
    {
        sc.INPUT_VALUE,
        sc.OUTPUT_VALUE,
        sc.INPUT_MIME_TYPE,
        sc.OUTPUT_MIME_TYPE,
        sc.TRACE_TAGS,
        sc.METADATA,
        sc.SPAN_TYPE,
    }
)
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def compact_encoder() -> Callable[[Any], str]:
    """Compact JSON text for index columns (``NaN`` allowed: SQLite's JSON reads it)."""
    return compact_json(allow_nan=True)


_JSON_SORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


#: First characters of a string that may read as a number (``""`` is in every string).
_NUMBER_START = "+-.0123456789"


def kv_values(value: Any) -> tuple[str | None, float | None]:
    """``(value_text, value_num)`` for a key/value row (see ``query/compiler.py``)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond a double's range
            return _JSON.encode(value), None
        return _JSON.encode(value), (number if math.isfinite(number) else None)
    if isinstance(value, str):
        number_value: float | None = None
        if value[:1] in _NUMBER_START and len(value) < 40:
            try:
                parsed = float(value)
                number_value = parsed if math.isfinite(parsed) else None
            except ValueError:
                pass
        return value, number_value
    return _JSON_SORTED.encode(value), None


def _json_object(raw: Any) -> dict[str, Any] | None:
    """A JSON object given as a dict or as JSON text; the text may escape values the index
    cannot store (a lone surrogate, ``\\ud800``), so the value rule applies."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw.startswith("{"):
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            return None
        return safe_json(value) if isinstance(value, dict) else None
    return None


def _tags(attributes: dict[str, Any]) -> dict[str, str] | None:
    tags: dict[str, str] = {}
    listed = attributes.get(sc.TAG_TAGS)
    if isinstance(listed, list):
        for item in listed:
            key, _, value = str(item).partition("=")
            tags[key] = value
    tags.update(
        {str(k): str(v) for k, v in (_json_object(attributes.get(sc.TRACE_TAGS)) or {}).items()}
    )
    return tags or None


#: Longest input / output value read as JSON for its preview (a longer one is cut as text).
_PREVIEW_PARSE_CHARS = 1_000_000


def _preview(
    attributes: dict[str, Any], explicit: str, value_key: str, mime_key: str, *, request: bool
) -> str | None:
    """The preview an app set (``explicit``), else one line read from the value: the
    conversation's last user message or the answer (``_internal.chat``), else the text."""
    value = attributes.get(explicit)
    if value is not None:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return text[:PREVIEW_CHARS]
    value = attributes.get(value_key)
    if value is None:
        return None
    if (
        isinstance(value, str)
        and attributes.get(mime_key) == sc.MIME_JSON
        and len(value) <= _PREVIEW_PARSE_CHARS
    ):
        value = chat.parse_json_text(value)
    elif isinstance(value, str):
        value = value[: PREVIEW_CHARS * 4]
    make = chat.request_preview if request else chat.response_preview
    return make(value, PREVIEW_CHARS)


def _int_attr(attributes: dict[str, Any], key: str) -> int:
    """An integer attribute (a token count) as the index stores it: 0 when absent or not a
    finite number, clamped to 64 bits."""
    value = attributes.get(key)
    if type(value) is int:
        return value if INT64_MIN <= value <= INT64_MAX else _clamp64(value)
    if type(value) is float and math.isfinite(value):
        return _clamp64(int(value))
    return 0


def _clamp64(value: int) -> int:
    return INT64_MIN if value < INT64_MIN else (INT64_MAX if value > INT64_MAX else value)


#: A ``span_attrs`` row: key, value as text, trace key, value as a number.
AttrRow = tuple[str, str, int, float | None]


def span_data(span: SpanRecord) -> str:
    """The ``data`` column (JSON): what a ``Span`` needs beyond the columns of its row
    (trace and span ids, parent, name and times are columns). Empty fields are left out."""
    data: dict[str, Any] = {"kind": span.kind, "attributes": span.attributes}
    if span.status_code:
        data["status_code"] = span.status_code
    if span.status_message:
        data["status_message"] = span.status_message
    if span.events:
        data["events"] = [[e.name, e.timestamp_ns, e.attributes] for e in span.events]
    if span.links:
        data["links"] = [[li["trace_id"], li["span_id"], li["attributes"]] for li in span.links]
    text = compact_encoder()(data)
    suffix = _context_suffix(span.resource, span.scope)
    return text[:-1] + suffix if suffix else text


#: (id of a resource dict, id of a scope dict) -> (the resource, the scope, their JSON members).
_CONTEXTS: dict[tuple[int, int], tuple[dict[str, Any], dict[str, str], str]] = {}


def _context_suffix(resource: dict[str, Any], scope: dict[str, str]) -> str:
    """``,"resource":{...},"scope":{...}}`` for ``span_data``, encoded once per resource
    and scope: every span of an export request shares them (the decoder hands out one dict
    per resource and scope), and a real resource (SDK, host, process attributes) can
    outweigh the span's own attributes. The cache holds both dicts, so their ids are not
    reused."""
    key = (id(resource), id(scope))
    cached = _CONTEXTS.get(key)
    if cached is not None and cached[0] is resource and cached[1] is scope:
        return cached[2]
    parts = []
    if resource:
        parts.append(',"resource":' + compact_encoder()(resource))
    if scope.get("name") or scope.get("version"):
        parts.append(
            ',"scope":'
            + compact_encoder()(
                {"name": scope.get("name", ""), "version": scope.get("version", "")}
            )
        )
    suffix = "".join(parts) + "}" if parts else ""
    if len(_CONTEXTS) >= 64:
        _CONTEXTS.clear()
    _CONTEXTS[key] = (resource, scope, suffix)
    return suffix


def span_rows(span: SpanRecord, tid: int) -> tuple[tuple[Any, ...], list[AttrRow], list[str]]:
    """The ``spans`` row (``SPAN_COLUMNS``), the ``span_attrs`` rows and the full-text parts
    of one span of the trace with key ``tid``. The row has previews only when the span has
    no parent (the usual root; ``previews`` gives any other span's)."""
    attributes = span.attributes
    get = attributes.get
    tags = _tags(attributes) if sc.TAG_TAGS in attributes or sc.TRACE_TAGS in attributes else None
    raw_metadata = get(sc.METADATA)
    metadata = None if raw_metadata is None else _json_object(raw_metadata)
    service = span.resource.get("service.name")
    session = get(sc.SESSION_ID)
    user = get(sc.USER_ID)
    encode = compact_encoder()
    row = (
        tid,
        span.span_id,
        span.parent_id,
        span.name,
        span_type_of(attributes),
        _STATUS.get(span.status_code, "UNSET"),
        span.start_time_ns,
        span.end_time_ns,
        _int_attr(attributes, sc.GEN_AI_USAGE_INPUT_TOKENS),
        _int_attr(attributes, sc.GEN_AI_USAGE_OUTPUT_TOKENS),
        service if isinstance(service, str) else None,
        session if session and isinstance(session, str) else None,
        user if user and isinstance(user, str) else None,
        encode(tags) if tags else None,
        encode(metadata) if metadata else None,
        *(previews(attributes) if span.parent_id is None else (None, None)),
        span_data(span),
    )
    attrs: list[AttrRow] = []
    for key, value in attributes.items():
        if key in _NOT_FILTERABLE:
            continue
        if type(value) is str and value[:1] not in _NUMBER_START:  # most values: plain text
            if len(value) <= MAX_ATTR_TEXT:
                attrs.append((key, value, tid, None))
            continue
        text, number = kv_values(value)
        if text is not None and len(text) <= MAX_ATTR_TEXT:
            attrs.append((key, text, tid, number))
    parts: list[str] = []
    for value in (get(sc.INPUT_VALUE), get(sc.OUTPUT_VALUE)):
        if value and isinstance(value, str):
            parts.append(value[:MAX_TEXT_CHARS])
    return row, attrs, parts


def previews(attributes: dict[str, Any]) -> tuple[str | None, str | None]:
    """Request and response previews from a span's attributes."""
    return (
        _preview(
            attributes, sc.TRACE_REQUEST_PREVIEW, sc.INPUT_VALUE, sc.INPUT_MIME_TYPE, request=True
        ),
        _preview(
            attributes,
            sc.TRACE_RESPONSE_PREVIEW,
            sc.OUTPUT_VALUE,
            sc.OUTPUT_MIME_TYPE,
            request=False,
        ),
    )


def previews_from_data(data: str) -> tuple[str | None, str | None]:
    """Request and response previews from a stored ``data`` column."""
    return previews(json.loads(data).get("attributes") or {})


#: The ``spans`` columns ``root_of`` and ``trace_row`` read, in the order of a row; a
#: ``span_rows`` row has them at the same places, then ``data``.
SUMMARY_COLUMNS = (
    "tid, span_id, parent_span_id, name, span_type, status, start_ns, end_ns, input_tokens, "
    "output_tokens, service_name, session_id, user_id, tags, metadata, request_preview, "
    "response_preview"
)


def root_of(spans: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The root among span rows sorted by start: the span without a parent, else the
    earliest span whose parent is not stored."""
    root = next((s for s in spans if s[2] is None), None)
    if root is None:
        ids = {s[1] for s in spans}
        root = next((s for s in spans if s[2] not in ids), spans[0])
    return root


def trace_row(
    trace_id: str, spans: list[tuple[Any, ...]]
) -> tuple[tuple[Any, ...], dict[str, str], dict[str, Any]]:
    """The ``traces`` row (without its key), tags and metadata of a trace from its span
    rows (``SUMMARY_COLUMNS`` first), sorted by start time.

    The root is the span without a parent, else (the root lives elsewhere) the earliest span
    whose parent is not stored. Tags and metadata merge over the spans in start order, the
    root's winning; tokens sum over the spans."""
    root = root_of(spans)
    start, end = spans[0][6], spans[0][7]
    input_tokens = output_tokens = 0
    tags: dict[str, str] = {}
    metadata: dict[str, Any] = {}
    service, session, user = root[10], root[11], root[12]
    for s in spans:
        start = min(start, s[6])
        end = max(end, s[7])
        input_tokens += s[8]
        output_tokens += s[9]
        if s[13]:
            tags.update(json.loads(s[13]))
        if s[14]:
            metadata.update(json.loads(s[14]))
        service = service or s[10]
        session = session or s[11]
        user = user or s[12]
    if root[13]:  # the root wins
        tags.update(json.loads(root[13]))
    if root[14]:
        metadata.update(json.loads(root[14]))
    input_tokens, output_tokens = _clamp64(input_tokens), _clamp64(output_tokens)
    row = (
        trace_id,
        root[3],
        "ERROR" if root[5] == "ERROR" else "OK",
        start // 1_000_000,
        end // 1_000_000,
        max(0, end - start) / 1e6,
        service,
        session,
        user,
        input_tokens,
        output_tokens,
        _clamp64(input_tokens + output_tokens),
        len(spans),
        root[1],
        root[15],
        root[16],
        compact_encoder()(tags),
        compact_encoder()(metadata),
    )
    return row, tags, metadata
