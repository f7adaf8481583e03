"""Finished SDK spans straight to one file-store line: the exporters' hot path.

The text is exactly what ``dumps_line`` writes for the ``TracesData`` object of these spans
shaped by ``encode.py`` (``tests/export/test_codec.py`` holds it byte for byte against the
server's receiver), built without the intermediate dicts: per span, one f-string for the
fixed fields and, per attribute, a cached ``{"key":...,"value":`` prefix plus the value's
text. Strings, booleans, 64-bit integers and floats, nearly every attribute, are written
here; any other value goes through ``any_value``, which stays the only place that decides
how a value looks. Resource and scope parts are encoded once per batch from the shared
shaping functions, events and links (rare) from theirs.

The value rule (``values.py``) is applied on the way, so callers need no
``encodable_spans`` pass first: integers past 64 bits go through ``any_value``, times are
clamped, and a lone surrogate anywhere makes the UTF-8 encoding fail, after which
``safe_text`` repairs the whole text, as it would have repaired each string.

Spans are the SDK's ``ReadableSpan``, read through its own fields (``_context``,
``_attributes``...: its properties build a read-only view or a tuple on every read, and
iterating ``BoundedAttributes`` through the view costs a Python call per key); attributes
come from the ``BoundedAttributes`` dict when a span has one, else from any mapping. These
fields have been stable since SDK 1.0; a span without them (another ``ReadableSpan``
implementation, or an SDK that renamed them) is read through the public properties instead,
at the properties' cost, and encodes to the same text.
Encoding a small span (six short attributes) costs about 4 µs, a fifth of the dict path.

Quoting long string values (prompts, documents, tool outputs) is most of a large span's
cost: the ``json`` module's C quoting runs at about 0.7 GB/s. With orjson installed (the
``fast`` extra) strings of ``_LONG`` characters or more are quoted by it instead, about ten
times faster and to the same text; orjson is imported at the first long value, not before.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from otelfeedback._internal.otlp_json.encode import (
    FLAG_HAS_IS_REMOTE,
    FLAG_IS_REMOTE,
    any_value,
    compact_json,
    event_json,
    link_json,
    resource_spans_json,
    scope_spans_json,
)
from otelfeedback._internal.otlp_json.values import (
    INT64_MAX,
    INT64_MIN,
    UINT64_MAX,
    clamp_time,
    double_json,
    safe_text,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

#: JSON string literal of a str, as the codec's encoder writes it (C-accelerated).
_quote: Any = json.encoder.encode_basestring
_KEY_CACHE_MAX = 4096
#: attribute key -> its ``{"key":"...","value":`` prefix.
_key_prefixes: dict[str, str] = {}


def sdk_spans_line(spans: Sequence[ReadableSpan]) -> bytes:
    """One file-store line (UTF-8, strict JSON, newline-ended) holding ``spans`` as an
    OTLP/JSON ``TracesData`` object, grouped by resource and scope in order of appearance."""
    parts: list[str] = []
    _traces_data(spans, parts)
    text = "".join(parts)  # a long value is copied here once, and once more to bytes
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere: the value rule's U+FFFD
        return safe_text(text).encode("utf-8")


def plain_attributes(attributes: Any) -> Any:
    """The dict inside the SDK's ``BoundedAttributes`` (iterating one through its mapping
    interface costs a Python call per key), else ``attributes`` as given."""
    inner = getattr(attributes, "_dict", None)
    return inner if type(inner) is dict else attributes


def _traces_data(spans: Sequence[ReadableSpan], out: list[str]) -> None:
    compact = compact_json(allow_nan=False)
    out.append('{"resourceSpans":[')
    for r_index, (resource, scopes) in enumerate(_group(spans)):
        head, tail = _split(
            compact(
                resource_spans_json(
                    resource.attributes if resource else None,
                    0,
                    [],
                    (resource.schema_url or "") if resource else "",
                )
            ),
            '"scopeSpans":[]',
        )
        out.append("," + head if r_index else head)
        for s_index, (scope, members) in enumerate(scopes):
            s_head, s_tail = _split(
                compact(
                    scope_spans_json(
                        scope.name if scope else "",
                        (scope.version or "") if scope else "",
                        scope.attributes if scope else None,
                        [],
                        (scope.schema_url or "") if scope else "",
                    )
                ),
                '"spans":[]',
            )
            out.append("," + s_head if s_index else s_head)
            separator = ""
            for span in members:
                _span_parts(span, separator, out)
                separator = ","
            out.append(s_tail)
        out.append(tail)
    out.append("]}\n")


def _split(text: str, empty_list: str) -> tuple[str, str]:
    """``text`` cut inside ``empty_list`` (a key with ``[]``), which the caller fills. The
    key cannot occur inside a string value: there its quotes would be escaped."""
    head, tail = text.split(empty_list, 1)
    return head + empty_list[:-1], empty_list[-1] + tail


def _group(spans: Sequence[ReadableSpan]) -> list[tuple[Any, list[tuple[Any, list[Any]]]]]:
    """Spans by resource (identity) and scope (equality), first appearance first; a run of
    spans sharing both (the usual batch) costs two identity checks per span."""
    by_resource: dict[int, tuple[Any, dict[Any, tuple[Any, list[Any]]]]] = {}
    last_resource: Any = object()
    last_scope: Any = object()
    members: list[Any] = []
    for span in spans:
        resource, scope = span.resource, span.instrumentation_scope
        if resource is not last_resource or scope is not last_scope:
            entry = by_resource.get(id(resource))
            if entry is None:
                entry = by_resource[id(resource)] = (resource, {})
            scope_entry = entry[1].get(scope)
            if scope_entry is None:
                scope_entry = entry[1][scope] = (scope, [])
            members = scope_entry[1]
            last_resource, last_scope = resource, scope
        members.append(span)
    return [(resource, list(scopes.values())) for resource, scopes in by_resource.values()]


def _span_parts(span: ReadableSpan, separator: str, out: list[str]) -> None:
    """Append the span's JSON object, after ``separator``, to ``out``."""
    # The SDK's own fields (its properties build a view or a tuple per read), all read
    # before anything is appended: a span without them is read through its public API.
    attributes: Any
    try:
        ctx, parent, name, kind = span._context, span._parent, span._name, span._kind
        start, end, attributes = span._start_time or 0, span._end_time or 0, span._attributes
        status, has_more = span._status, bool(span._events or span._links)
        plain = plain_attributes(attributes)
        dropped = 0 if plain is attributes else attributes.dropped
        attributes = plain
    except AttributeError:
        ctx, parent, name, kind = span.context, span.parent, span.name, span.kind
        start, end, attributes = span.start_time or 0, span.end_time or 0, span.attributes
        status, has_more = span.status, bool(span.events or span.links)
        dropped = span.dropped_attributes
    assert ctx is not None
    if not (0 <= start <= UINT64_MAX and 0 <= end <= UINT64_MAX):
        start, end = clamp_time(start), clamp_time(end)
    remote = parent is not None and parent.is_remote
    out.append(
        f'{separator}{{"traceId":"{ctx.trace_id:032x}","spanId":"{ctx.span_id:016x}"'
        f"{_trace_state(ctx) if ctx.trace_state else ''}"
        f"{'' if parent is None else _PARENT.format(parent.span_id)}"
        f',"flags":{_REMOTE_FLAGS if remote else FLAG_HAS_IS_REMOTE}'
        f',"name":{_quote(name)},"kind":{kind._value_ + 1}'
        f',"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}"'
        f"{_ATTRIBUTES if attributes else ''}"
    )
    if attributes:
        _key_values_parts(attributes, out)
    tail = "]" if attributes else ""
    if dropped:
        tail += _DROPPED.format(dropped)
    if has_more:
        tail += _events_and_links(span)
    code, message = status.status_code._value_, status.description
    if message:
        out.append(tail + _status_message(code, message))
    else:
        out.append(tail + (_STATUS_CODE.format(code) if code else ',"status":{}}'))


_PARENT = ',"parentSpanId":"{:016x}"'
_REMOTE_FLAGS = FLAG_HAS_IS_REMOTE | FLAG_IS_REMOTE
_ATTRIBUTES = ',"attributes":['
_DROPPED = ',"droppedAttributesCount":{}'
_STATUS_CODE = ',"status":{{"code":{}}}}}'


def _trace_state(ctx: Any) -> str:
    return f',"traceState":{_quote(ctx.trace_state.to_header())}'


def _status_message(code: int, message: str) -> str:
    code_text = f'"code":{code},' if code else ""
    return f',"status":{{{code_text}"message":{_quote(message)}}}}}'


#: A string value at least this long is appended as a part of its own, not copied into
#: its attribute's text first (long inputs and outputs are copied once, by the final join).
_LONG = 1024


def _key_values_parts(attributes: Mapping[str, Any], out: list[str]) -> None:
    """Append the members of an OTLP/JSON ``KeyValue`` list, comma-separated, to ``out``."""
    prefixes = _key_prefixes
    short = []
    for key, value in attributes.items():
        prefix = prefixes.get(key)
        if prefix is None:
            if len(prefixes) >= _KEY_CACHE_MAX:
                prefixes.clear()
            prefix = prefixes[key] = f'{{"key":{_quote(key)},"value":'
        if type(value) is not str:
            short.append(f"{prefix}{_value_text(value)}}}")
        elif len(value) < _LONG:
            short.append(f'{prefix}{{"stringValue":{_quote(value)}}}}}')
        else:
            short.append(f'{prefix}{{"stringValue":')
            out.append(",".join(short))
            out.append(_quote_long(value))
            short = ["}}"]
    out.append(",".join(short))


def quote_with_orjson(value: str) -> str:
    """``_quote(value)``, from orjson's quoting: the same text (both escape only ``"``,
    ``\\`` and the C0 controls, those without a short escape as lowercase ``\\u00XX``;
    ``tests/export/test_fast_quoting.py`` holds every code point to it) at a tenth of the
    cost for a long string. A lone surrogate, which orjson refuses, gets the standard
    library's text, repaired with the rest of the line."""
    try:
        text: str = _orjson_dumps(value).decode()
    except TypeError:
        return str(_quote(value))
    return text


def _first_quote_long(value: str) -> str:
    """Choose the quoting of long strings on first use (importing orjson is not free)."""
    global _quote_long, _orjson_dumps
    try:
        import orjson
    except ImportError:
        _quote_long = _quote
    else:
        _orjson_dumps = orjson.dumps
        _quote_long = quote_with_orjson
    return str(_quote_long(value))


_orjson_dumps: Any = None
#: How a string of ``_LONG`` characters or more is quoted: orjson's when the ``fast`` extra
#: is installed, else the standard library's.
_quote_long: Any = _first_quote_long


def _value_text(value: Any) -> str:
    """The ``AnyValue`` text of a value other than a str."""
    kind = type(value)
    if kind is bool:
        return '{"boolValue":true}' if value else '{"boolValue":false}'
    if kind is int and INT64_MIN <= value <= INT64_MAX:
        return f'{{"intValue":"{value}"}}'
    if kind is float:
        number = double_json(value)  # NaN, ±Infinity: their OTLP/JSON text
        text = float.__repr__(number) if type(number) is float else _quote(number)
        return f'{{"doubleValue":{text}}}'
    return str(compact_json(allow_nan=False)(any_value(value)))


def _events_and_links(span: ReadableSpan) -> str:
    """The span's events and links with their dropped counts, from the shared shaping."""
    compact = compact_json(allow_nan=False)
    out = []
    if span.events:
        events = [
            event_json(clamp_time(e.timestamp), e.name, e.attributes, e.dropped_attributes)
            for e in span.events
        ]
        out.append(f',"events":{compact(events)}')
    if span.dropped_events:
        out.append(f',"droppedEventsCount":{span.dropped_events}')
    if span.links:
        links = [
            link_json(
                f"{li.context.trace_id:032x}",
                f"{li.context.span_id:016x}",
                li.context.trace_state.to_header() if li.context.trace_state else "",
                li.attributes,
                li.dropped_attributes,
                FLAG_HAS_IS_REMOTE | (FLAG_IS_REMOTE if li.context.is_remote else 0),
            )
            for li in span.links
        ]
        out.append(f',"links":{compact(links)}')
    if span.dropped_links:
        out.append(f',"droppedLinksCount":{span.dropped_links}')
    return "".join(out)
