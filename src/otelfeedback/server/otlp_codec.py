"""Parse OTLP trace requests (protobuf or JSON) for the receiver.

Both encodings are decoded into one ``ExportTraceServiceRequest`` message, so everything is
validated the same way; the line written to the store comes from the one OTLP/JSON codec
(``otelfeedback._internal.otlp_json.encode``), the same code that writes the SDK's spans.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otelfeedback._internal.otlp_json.encode import dumps_line, encode_request
from otelfeedback._internal.otlp_json.values import encodable_otlp_json

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
        # A value OTLP cannot carry (a lone surrogate, an integer past 64 bits) is repaired
        # under the codec's value rule rather than failing the whole request.
        repaired = encodable_otlp_json(data)
        request = ExportTraceServiceRequest()
        try:
            if repaired is data:
                raise
            json_format.ParseDict(repaired, request, ignore_unknown_fields=True)
        except json_format.ParseError:
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


def to_line(request: ExportTraceServiceRequest) -> bytes:
    """One complete file-store line (with its newline), written by the one OTLP/JSON codec."""
    return dumps_line(encode_request(request))


__all__ = [
    "OTLPRequestError",
    "count_spans",
    "decode_json",
    "decode_protobuf",
    "to_line",
]
