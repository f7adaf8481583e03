"""Decode OTLP/JSON trace data (``ExportTraceServiceRequest``) into ``SpanRecord`` objects.

Accepts anything valid OTLP/JSON, whoever wrote it: lowerCamelCase or snake_case field names,
hex or base64 ids, 64-bit integers as strings or numbers, enums as numbers or names, every
``AnyValue`` form (strings, bools, ints, doubles incl. ``"NaN"``/``"Infinity"``, bytes, arrays,
key-value lists), and zero or empty fields left out.

Values OTLP cannot carry follow the rule of ``values.py``: an ``intValue`` outside
64 bits is kept as its decimal text, a ``doubleValue`` too large for a double is ±Infinity,
and times are clamped to ``[0, 2**63 - 1]`` ns (what the index can store). Strings are taken
as they are (the indexer repairs a line whose strings hold lone surrogates).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from otelfeedback._internal.otlp_json.values import INT64_MAX, clamp_time, int_text, is_int64

_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
_KIND_NAMES = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}


S = TypeVar("S", bound="SpanRecord")


class OTLPDecodeError(ValueError):
    """The data is not valid OTLP/JSON trace data."""


@dataclass
class SpanEvent:
    """An event of a span (an assessment record rides on one while its span records)."""

    name: str
    timestamp_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class SpanRecord:
    """The one stored-span record: what the decoder yields, the index stores and the store
    returns (``otelfeedback.store.Span`` adds read helpers to it). Ids are lowercase hex;
    ``links`` are ``{"trace_id", "span_id", "attributes"}``; ``status_code`` is OTLP's
    (0 unset, 1 ok, 2 error); ``scope`` is ``{"name", "version"}``. The decoder hands out one
    ``resource`` and one ``scope`` dict per resource / scope of a request: spans share them."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: int
    start_time_ns: int
    end_time_ns: int
    attributes: dict[str, Any]
    events: list[SpanEvent] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    status_code: int = 0
    status_message: str = ""
    resource: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, str] = field(default_factory=dict)


def _get(obj: Mapping[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _int(raw: Any, what: str) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool):
        raise OTLPDecodeError(f"{what}: expected an integer, got a boolean")
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):
        raise OTLPDecodeError(f"{what}: expected an integer, got {str(raw)[:40]!r}") from None


def _time(raw: Any, what: str) -> int:
    """A time in ns, clamped to what the index stores."""
    return clamp_time(_int(raw, what), INT64_MAX)


def _int_value(raw: Any) -> int | str:
    """An ``intValue``: an int within 64 bits, else its exact text."""
    if type(raw) is str:
        try:
            value = int(raw)
        except ValueError:
            if raw.strip().lstrip("+-").isdigit():  # past Python's digit limit for int()
                return raw.strip()
            raise OTLPDecodeError(f"intValue: expected an integer, got {raw[:40]!r}") from None
    else:
        value = _int(raw, "intValue")
    return value if is_int64(value) else int_text(value)


def _double(raw: Any) -> float:
    try:
        return float(raw)
    except OverflowError:  # an integer too large for a double
        return float("inf") if raw > 0 else float("-inf")
    except (TypeError, ValueError):
        raise OTLPDecodeError(f"doubleValue: expected a number, got {str(raw)[:40]!r}") from None


def _id(raw: Any, size: int, what: str) -> str | None:
    """Hex id of ``size`` bytes from hex or base64; None when absent or all zero."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise OTLPDecodeError(f"{what}: expected a string id, got {raw!r}")
    if len(raw) == size * 2:
        try:
            value = bytes.fromhex(raw)
        except ValueError:
            value = b""
        if value:
            return None if not any(value) else raw.lower()
    try:
        value = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        value = b""
    if len(value) != size:
        raise OTLPDecodeError(f"{what}: {raw!r} is not a {size}-byte id in hex or base64")
    return None if not any(value) else value.hex()


def decode_any_value(value: Any) -> Any:
    """The Python value of an OTLP ``AnyValue`` (bytes become base64 text)."""
    if not isinstance(value, Mapping):
        return None
    text = value.get("stringValue")  # the common case first
    if text is not None:
        return text
    for key in ("stringValue", "string_value"):
        if key in value:
            return value[key]
    for key in ("boolValue", "bool_value"):
        if key in value:
            return bool(value[key])
    for key in ("intValue", "int_value"):
        if key in value:
            return _int_value(value[key])
    for key in ("doubleValue", "double_value"):
        if key in value:
            return _double(value[key])
    for key in ("arrayValue", "array_value"):
        if key in value:
            return [decode_any_value(v) for v in (value[key] or {}).get("values") or []]
    for key in ("kvlistValue", "kvlist_value"):
        if key in value:
            return decode_attributes((value[key] or {}).get("values"))
    for key in ("bytesValue", "bytes_value"):
        if key in value:
            return str(value[key])
    return None


def decode_attributes(raw: Any) -> dict[str, Any]:
    """A ``KeyValue`` list as a dict (later duplicates win)."""
    if not raw:
        return {}
    if not isinstance(raw, list):
        raise OTLPDecodeError(f"attributes: expected a list, got {type(raw).__name__}")
    result: dict[str, Any] = {}
    for item in raw:
        try:
            key = item["key"]
            value = item.get("value")
        except (KeyError, TypeError, AttributeError):
            raise OTLPDecodeError(f"attributes: malformed key-value {item!r}") from None
        if type(key) is not str:
            raise OTLPDecodeError(f"attributes: malformed key {key!r}")
        if type(value) is dict:
            text = value.get("stringValue")
            if text is not None:
                result[key] = text
                continue
        result[key] = decode_any_value(value)
    return result


def _enum(raw: Any, names: dict[str, int], what: str) -> int:
    if isinstance(raw, str) and not raw.lstrip("-").isdigit():
        if raw not in names:
            raise OTLPDecodeError(f"{what}: unknown value {raw!r}")
        return names[raw]
    return _int(raw, what)


def _decode_span(
    raw: Mapping[str, Any], resource: dict[str, Any], scope: dict[str, str], cls: type[S]
) -> S:
    # The common forms (lowerCamelCase names, numeric enums, no events or links) are read
    # inline: this runs once per span on the indexing path.
    get = raw.get
    trace_raw = get("traceId")
    span_raw = get("spanId")
    trace_id = _id(get("trace_id") if trace_raw is None else trace_raw, 16, "traceId")
    span_id = _id(get("span_id") if span_raw is None else span_raw, 8, "spanId")
    if trace_id is None or span_id is None:
        raise OTLPDecodeError("span without a valid traceId/spanId")
    parent_raw = get("parentSpanId")
    if parent_raw is None:
        parent_raw = get("parent_span_id")
    start_raw = get("startTimeUnixNano")
    end_raw = get("endTimeUnixNano")
    status = get("status") or {}
    code = status.get("code", 0)
    kind = get("kind", 0)
    raw_events = get("events")
    raw_links = get("links")
    events = (
        [
            SpanEvent(
                str(e.get("name", "")),
                _time(_get(e, "timeUnixNano", "time_unix_nano"), "timeUnixNano"),
                decode_attributes(e.get("attributes")),
            )
            for e in raw_events
        ]
        if raw_events
        else []
    )
    links = []
    for link in raw_links or ():
        link_trace = _id(_get(link, "traceId", "trace_id"), 16, "links.traceId")
        link_span = _id(_get(link, "spanId", "span_id"), 8, "links.spanId")
        if link_trace and link_span:
            links.append(
                {
                    "trace_id": link_trace,
                    "span_id": link_span,
                    "attributes": decode_attributes(link.get("attributes")),
                }
            )
    return cls(
        trace_id,
        span_id,
        None if parent_raw is None else _id(parent_raw, 8, "parentSpanId"),
        str(get("name", "")),
        kind if type(kind) is int else _enum(kind, _KIND_NAMES, "kind"),
        _time(get("start_time_unix_nano") if start_raw is None else start_raw, "startTimeUnixNano"),
        _time(get("end_time_unix_nano") if end_raw is None else end_raw, "endTimeUnixNano"),
        decode_attributes(get("attributes")),
        events,
        links,
        code if type(code) is int else _enum(code, _STATUS_NAMES, "status.code"),
        str(status.get("message") or ""),
        resource,
        scope,
    )


def iter_spans(request: Any, cls: type[S] = SpanRecord) -> Iterator[S]:  # type: ignore[assignment]
    """Every span of one decoded ``ExportTraceServiceRequest`` JSON object, as ``cls``
    (``SpanRecord`` or a subclass).

    Raises:
        OTLPDecodeError: the object is not OTLP/JSON trace data.
    """
    if not isinstance(request, Mapping):
        raise OTLPDecodeError("expected a JSON object with resourceSpans")
    resource_spans = _get(request, "resourceSpans", "resource_spans")
    if not isinstance(resource_spans, list):
        raise OTLPDecodeError("expected a JSON object with a resourceSpans list")
    try:
        for rs in resource_spans:
            resource = decode_attributes((rs.get("resource") or {}).get("attributes"))
            for ss in _get(rs, "scopeSpans", "scope_spans") or []:
                raw_scope = ss.get("scope") or {}
                scope = {
                    "name": str(raw_scope.get("name") or ""),
                    "version": str(raw_scope.get("version") or ""),
                }
                for span in ss.get("spans") or []:
                    yield _decode_span(span, resource, scope, cls)
    except (AttributeError, TypeError) as exc:
        raise OTLPDecodeError(f"malformed OTLP/JSON: {exc}") from None
