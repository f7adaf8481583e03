"""OTLP trace requests (protobuf or JSON) to the OTLP/JSON line form of the file store.

Both encodings are decoded into one ``ExportTraceServiceRequest`` message (so everything is
validated the same way) and written back as the Collector's file exporter writes OTLP/JSON:
lowerCamelCase fields, ids as lowercase hex (protobuf's own JSON mapping would write base64),
64-bit integers as strings, enums as numbers, empty fields left out.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

#: id fields (both JSON spellings) and their size in bytes
_ID_KEYS = {
    "traceId": 16,
    "spanId": 8,
    "parentSpanId": 8,
    "trace_id": 16,
    "span_id": 8,
    "parent_span_id": 8,
}


class OTLPRequestError(ValueError):
    """The body is not a valid OTLP trace export request (the message says where)."""


def decode_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise OTLPRequestError(f"not a protobuf ExportTraceServiceRequest: {exc}") from None
    _check_ids(request)
    return request


def decode_json(body: bytes) -> ExportTraceServiceRequest:
    """OTLP/JSON (hex ids, as the spec requires) into the protobuf message."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OTLPRequestError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OTLPRequestError("expected a JSON object with resourceSpans")
    _hex_ids_to_base64(data, "")
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(data, request, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise OTLPRequestError(f"not an OTLP/JSON ExportTraceServiceRequest: {exc}") from None
    _check_ids(request)
    return request


def _hex_ids_to_base64(node: Any, path: str) -> None:
    """Rewrite hex ids in place as base64, the form protobuf's JSON parser expects."""
    if isinstance(node, dict):
        for key, value in node.items():
            size = _ID_KEYS.get(key)
            if size is not None and isinstance(value, str):
                node[key] = _id_to_base64(value, size, f"{path}.{key}".lstrip("."))
            elif isinstance(value, (dict, list)) and key not in ("attributes", "resource"):
                _hex_ids_to_base64(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _hex_ids_to_base64(item, f"{path}[{i}]")


def _id_to_base64(value: str, size: int, where: str) -> str:
    if value == "":
        return ""
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise OTLPRequestError(f"{where}: expected {size * 2} hex digits, got {value!r}")
    return base64.b64encode(raw).decode("ascii")


def _check_ids(request: ExportTraceServiceRequest) -> None:
    for r, rs in enumerate(request.resource_spans):
        for s, ss in enumerate(rs.scope_spans):
            for n, span in enumerate(ss.spans):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{n}]"
                if len(span.trace_id) != 16 or not any(span.trace_id):
                    raise OTLPRequestError(f"{where}.traceId: expected a non-zero 16-byte id")
                if len(span.span_id) != 8 or not any(span.span_id):
                    raise OTLPRequestError(f"{where}.spanId: expected a non-zero 8-byte id")
                if len(span.parent_span_id) not in (0, 8):
                    raise OTLPRequestError(f"{where}.parentSpanId: expected an 8-byte id")
                for k, link in enumerate(span.links):
                    if len(link.trace_id) != 16 or len(link.span_id) != 8:
                        raise OTLPRequestError(f"{where}.links[{k}]: malformed trace/span id")


def count_spans(request: ExportTraceServiceRequest) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


# -- protobuf -> OTLP/JSON -----------------------------------------------------------------
def _double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def any_value(value: AnyValue) -> dict[str, Any]:
    which = value.WhichOneof("value")
    if which == "string_value":
        return {"stringValue": value.string_value}
    if which == "int_value":
        return {"intValue": str(value.int_value)}
    if which == "bool_value":
        return {"boolValue": value.bool_value}
    if which == "double_value":
        return {"doubleValue": _double(value.double_value)}
    if which == "array_value":
        return {"arrayValue": {"values": [any_value(v) for v in value.array_value.values]}}
    if which == "kvlist_value":
        return {"kvlistValue": {"values": key_values(value.kvlist_value.values)}}
    if which == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode("ascii")}
    return {}


def key_values(items: Any) -> list[dict[str, Any]]:
    out = []
    for kv in items:
        kv_: KeyValue = kv
        value = kv_.value
        if value.WhichOneof("value") == "string_value":  # the common case, inlined
            out.append({"key": kv_.key, "value": {"stringValue": value.string_value}})
        else:
            out.append({"key": kv_.key, "value": any_value(value)})
    return out


def _put(out: dict[str, Any], key: str, value: Any, convert: Callable[[Any], Any] = str) -> None:
    if value:
        out[key] = convert(value)


def _span(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": span.trace_id.hex(), "spanId": span.span_id.hex()}
    _put(out, "traceState", span.trace_state)
    _put(out, "parentSpanId", span.parent_span_id, bytes.hex)
    _put(out, "flags", span.flags, int)
    out["name"] = span.name
    out["kind"] = span.kind
    out["startTimeUnixNano"] = str(span.start_time_unix_nano)
    out["endTimeUnixNano"] = str(span.end_time_unix_nano)
    _put(out, "attributes", span.attributes, key_values)
    _put(out, "droppedAttributesCount", span.dropped_attributes_count, int)
    if span.events:
        events = []
        for e in span.events:
            event: dict[str, Any] = {"timeUnixNano": str(e.time_unix_nano), "name": e.name}
            _put(event, "attributes", e.attributes, key_values)
            _put(event, "droppedAttributesCount", e.dropped_attributes_count, int)
            events.append(event)
        out["events"] = events
    _put(out, "droppedEventsCount", span.dropped_events_count, int)
    if span.links:
        links = []
        for li in span.links:
            link: dict[str, Any] = {"traceId": li.trace_id.hex(), "spanId": li.span_id.hex()}
            _put(link, "traceState", li.trace_state)
            _put(link, "attributes", li.attributes, key_values)
            _put(link, "droppedAttributesCount", li.dropped_attributes_count, int)
            _put(link, "flags", li.flags, int)
            links.append(link)
        out["links"] = links
    _put(out, "droppedLinksCount", span.dropped_links_count, int)
    status: dict[str, Any] = {}
    _put(status, "code", span.status.code, int)
    _put(status, "message", span.status.message)
    out["status"] = status
    return out


def to_otlp_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """The request as one OTLP/JSON ``TracesData`` object (one line of the file store)."""
    resource_spans = []
    for rs in request.resource_spans:
        resource: dict[str, Any] = {"attributes": key_values(rs.resource.attributes)}
        _put(resource, "droppedAttributesCount", rs.resource.dropped_attributes_count, int)
        scope_spans = []
        for ss in rs.scope_spans:
            scope: dict[str, Any] = {"name": ss.scope.name}
            _put(scope, "version", ss.scope.version)
            _put(scope, "attributes", ss.scope.attributes, key_values)
            item: dict[str, Any] = {"scope": scope, "spans": [_span(s) for s in ss.spans]}
            _put(item, "schemaUrl", ss.schema_url)
            scope_spans.append(item)
        out: dict[str, Any] = {"resource": resource, "scopeSpans": scope_spans}
        _put(out, "schemaUrl", rs.schema_url)
        resource_spans.append(out)
    return {"resourceSpans": resource_spans}


def to_line(request: ExportTraceServiceRequest) -> bytes:
    """One complete file-store line (with its newline)."""
    data = to_otlp_json(request)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


__all__ = [
    "OTLPRequestError",
    "count_spans",
    "decode_json",
    "decode_protobuf",
    "to_line",
    "to_otlp_json",
]
