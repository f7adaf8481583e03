"""Encode spans as OTLP/JSON, as the OpenTelemetry Collector's file exporter writes it.

One ``{"resourceSpans": [...]}`` object per line; ids as lowercase hex; 64-bit integers as
strings; enums as numbers; empty fields left out; non-finite doubles as the strings of the
protobuf JSON mapping (``"NaN"``, ``"Infinity"``, ``"-Infinity"``), so every line is strict
JSON; values OTLP cannot carry follow the rule of ``values.py`` (an integer past 64 bits is
written as its text, a lone surrogate as U+FFFD, a time clamped to 64 bits), so every span
encodes. Two sources share every rule below the span level:

- ``sdk_lines.sdk_spans_line``: finished SDK spans (the exporters), written straight to
  text with the shaping functions below;
- ``encode_request``: a received ``ExportTraceServiceRequest`` (the server's receiver).

For the same span both write the same bytes (``tests/export/test_codec.py``): span flags
are what the SDK's OTLP exporter sends (``HAS_IS_REMOTE`` and ``IS_REMOTE``), and protobuf
attribute values are turned into Python values first, so ``any_value`` is the only place
that decides how a value looks.
"""

from __future__ import annotations

import base64
import functools
import json
import json.encoder
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from otelfeedback._internal.otlp_json.values import (
    double_json,
    int_text,
    is_int64,
    safe_text,
)

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

#: SpanFlags bits (OTLP): the parent's is-remote flag is known / set.
FLAG_HAS_IS_REMOTE = 0x100
FLAG_IS_REMOTE = 0x200


def any_value(value: Any) -> dict[str, Any]:
    """The OTLP/JSON ``AnyValue`` of a Python attribute value."""
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):  # past 64 bits: its text (``values.py``)
        value = int(value)
        return {"intValue": str(value)} if is_int64(value) else {"stringValue": int_text(value)}
    if isinstance(value, float):
        return {"doubleValue": double_json(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"bytesValue": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": key_values(value)}}
    if isinstance(value, Sequence):
        if any(type(v) is int and not is_int64(v) for v in value):
            value = [int_text(v) if type(v) is int else v for v in value]  # one type per array
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if value is None:
        return {}
    return {"stringValue": str(value)}


def key_values(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The OTLP/JSON ``KeyValue`` list of an attribute mapping."""
    if not attributes:
        return []
    out = []
    for key, value in attributes.items():
        if type(value) is str:  # the common case, inlined
            out.append({"key": key, "value": {"stringValue": value}})
        else:
            out.append({"key": key, "value": any_value(value)})
    return out


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@functools.cache
def compact_json(*, allow_nan: bool) -> Callable[[Any], str]:
    """Compact JSON text (``ensure_ascii=False``) of acyclic plain data, with the C encoder
    built once (``JSONEncoder.encode`` builds one per call, which costs as much as encoding a
    small object). ``allow_nan=False`` refuses ``NaN``/``Infinity`` (``ValueError``). Falls
    back to ``JSONEncoder.encode`` where the C encoder is missing or differs."""
    plain = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=allow_nan)
    make = getattr(json.encoder, "c_make_encoder", None)
    sample = {"a": [1, 2.5, "\u00e9\n", None, True, {"b": -0.0}]}
    try:
        encode = make(  # type: ignore[misc]
            None, _refuse, json.encoder.encode_basestring, None, ":", ",", False, False, allow_nan
        )
        if "".join(encode(sample, 0)) == plain.encode(sample):
            return lambda value: "".join(encode(value, 0))
    except TypeError:
        pass
    return plain.encode


def dumps_line(data: Mapping[str, Any]) -> bytes:
    """One file-store line: compact, UTF-8, strict JSON (``NaN`` is refused), newline-ended.
    A lone surrogate in any string becomes U+FFFD (``values.safe_text``): a line always
    encodes."""
    text = compact_json(allow_nan=False)(data)
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return safe_text(text).encode("utf-8") + b"\n"


# -- shaping shared by both sources ---------------------------------------------------------
def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value:
        out[key] = value


def event_json(
    time_ns: int, name: str, attributes: Mapping[str, Any] | None, dropped: int
) -> dict[str, Any]:
    event: dict[str, Any] = {"timeUnixNano": str(time_ns), "name": name}
    _put(event, "attributes", key_values(attributes))
    _put(event, "droppedAttributesCount", dropped)
    return event


def link_json(
    trace_id: str,
    span_id: str,
    trace_state: str,
    attributes: Mapping[str, Any] | None,
    dropped: int,
    flags: int,
) -> dict[str, Any]:
    link: dict[str, Any] = {"traceId": trace_id, "spanId": span_id}
    _put(link, "traceState", trace_state)
    _put(link, "attributes", key_values(attributes))
    _put(link, "droppedAttributesCount", dropped)
    _put(link, "flags", flags)
    return link


def status_json(code: int, message: str) -> dict[str, Any]:
    status: dict[str, Any] = {}
    _put(status, "code", code)
    _put(status, "message", message)
    return status


def scope_spans_json(
    name: str,
    version: str,
    attributes: Mapping[str, Any] | None,
    spans: list[dict[str, Any]],
    schema_url: str,
) -> dict[str, Any]:
    scope: dict[str, Any] = {"name": name}
    _put(scope, "version", version)
    _put(scope, "attributes", key_values(attributes))
    item: dict[str, Any] = {"scope": scope, "spans": spans}
    _put(item, "schemaUrl", schema_url)
    return item


def resource_spans_json(
    attributes: Mapping[str, Any] | None,
    dropped: int,
    scope_spans: list[dict[str, Any]],
    schema_url: str,
) -> dict[str, Any]:
    resource: dict[str, Any] = {"attributes": key_values(attributes)}
    _put(resource, "droppedAttributesCount", dropped)
    out: dict[str, Any] = {"resource": resource, "scopeSpans": scope_spans}
    _put(out, "schemaUrl", schema_url)
    return out


# -- received protobuf requests -----------------------------------------------------------
def _py_value(value: Any) -> Any:
    """A protobuf ``AnyValue`` as the Python value ``any_value`` encodes back."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "bool_value":
        return value.bool_value
    if which == "double_value":
        return value.double_value
    if which == "array_value":
        return [_py_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return _py_attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return value.bytes_value
    return None


def _py_attributes(items: Any) -> dict[str, Any]:
    out = {}
    for kv in items:
        value = kv.value
        out[kv.key] = (
            value.string_value if value.WhichOneof("value") == "string_value" else _py_value(value)
        )
    return out


def _proto_span(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": span.trace_id.hex(), "spanId": span.span_id.hex()}
    _put(out, "traceState", span.trace_state)
    _put(out, "parentSpanId", span.parent_span_id.hex())
    _put(out, "flags", span.flags)
    out["name"] = span.name
    out["kind"] = span.kind
    out["startTimeUnixNano"] = str(span.start_time_unix_nano)
    out["endTimeUnixNano"] = str(span.end_time_unix_nano)
    _put(out, "attributes", key_values(_py_attributes(span.attributes)))
    _put(out, "droppedAttributesCount", span.dropped_attributes_count)
    if span.events:
        out["events"] = [
            event_json(
                e.time_unix_nano, e.name, _py_attributes(e.attributes), e.dropped_attributes_count
            )
            for e in span.events
        ]
    _put(out, "droppedEventsCount", span.dropped_events_count)
    if span.links:
        out["links"] = [
            link_json(
                li.trace_id.hex(),
                li.span_id.hex(),
                li.trace_state,
                _py_attributes(li.attributes),
                li.dropped_attributes_count,
                li.flags,
            )
            for li in span.links
        ]
    _put(out, "droppedLinksCount", span.dropped_links_count)
    out["status"] = status_json(span.status.code, span.status.message)
    return out


def encode_request(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """A received request as one OTLP/JSON ``TracesData`` object (one file-store line)."""
    resource_spans = []
    for rs in request.resource_spans:
        scope_spans = [
            scope_spans_json(
                ss.scope.name,
                ss.scope.version,
                _py_attributes(ss.scope.attributes),
                [_proto_span(s) for s in ss.spans],
                ss.schema_url,
            )
            for ss in rs.scope_spans
        ]
        resource_spans.append(
            resource_spans_json(
                _py_attributes(rs.resource.attributes),
                rs.resource.dropped_attributes_count,
                scope_spans,
                rs.schema_url,
            )
        )
    return {"resourceSpans": resource_spans}


# -- stored spans -------------------------------------------------------------------------
def encode_records(spans: Sequence[Any]) -> dict[str, Any]:
    """One OTLP/JSON ``TracesData`` object holding stored spans (``decode.SpanRecord``),
    grouped by resource and scope: what a store writes when it moves spans to a file
    store (``otelfeedback store copy``). Decoding it gives the same records back."""
    groups: dict[str, tuple[Any, dict[tuple[str, str], list[dict[str, Any]]]]] = {}
    for span in spans:
        resource_key = compact_json(allow_nan=True)(span.resource)
        entry = groups.get(resource_key)
        if entry is None:
            entry = groups[resource_key] = (span.resource, {})
        scope = (span.scope.get("name", ""), span.scope.get("version", ""))
        out: dict[str, Any] = {"traceId": span.trace_id, "spanId": span.span_id}
        if span.parent_id:
            out["parentSpanId"] = span.parent_id
        out["name"] = span.name
        out["kind"] = span.kind
        out["startTimeUnixNano"] = str(span.start_time_ns)
        out["endTimeUnixNano"] = str(span.end_time_ns)
        _put(out, "attributes", key_values(span.attributes))
        if span.events:
            out["events"] = [
                event_json(e.timestamp_ns, e.name, e.attributes, 0) for e in span.events
            ]
        if span.links:
            out["links"] = [
                link_json(li["trace_id"], li["span_id"], "", li.get("attributes"), 0, 0)
                for li in span.links
            ]
        out["status"] = status_json(span.status_code, span.status_message)
        entry[1].setdefault(scope, []).append(out)
    return {
        "resourceSpans": [
            resource_spans_json(
                resource,
                0,
                [
                    scope_spans_json(name, version, None, encoded, "")
                    for (name, version), encoded in scopes.items()
                ],
                "",
            )
            for resource, scopes in groups.values()
        ]
    }
