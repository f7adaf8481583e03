"""Property: whatever body is posted to the OTLP receiver, the answer is a 2xx or a 4xx, never
a 500, and every span of a request answered 2xx can be read back from the store.

Bodies: arbitrary bytes; arbitrary JSON; OTLP requests of any shape with edge values (empty
and huge strings, NUL, 64-bit integers, NaN/Infinity doubles, nested arrays and maps, wrong
types in any field), as OTLP/JSON and as protobuf, each optionally gzipped (in one or two
members) or cut short. One real server on loopback serves the whole run; the budget is fixed
and the run derandomized so CI repeats the same examples in a few seconds.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otelfeedback.errors import NotFoundError
from otelfeedback.server import create_app
from otelfeedback.store import FileStore
from tests.server.live import LiveServer, request

BUDGET = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
#: Span start and end times: every valid OTLP value (the index clamps past 2^63 - 1).
TIMES = st.integers(min_value=0, max_value=2**64 - 1)
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "\x00", "<script>x</script>", "a" * 10_000, "é" * 100, "\U0001f600"]),
)
SCALARS = st.one_of(
    TEXT.map(lambda s: {"stringValue": s}),
    st.booleans().map(lambda b: {"boolValue": b}),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda i: {"intValue": str(i)}),
    st.integers(min_value=-(2**53), max_value=2**53).map(lambda i: {"intValue": i}),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: {"doubleValue": f}),
    st.sampled_from(["NaN", "Infinity", "-Infinity"]).map(lambda f: {"doubleValue": f}),
    st.binary(max_size=16).map(lambda b: {"bytesValue": base64.b64encode(b).decode()}),
    st.just({}),
)
ANY_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: {"arrayValue": {"values": xs}}),
        st.dictionaries(st.text(max_size=6), inner, max_size=3).map(
            lambda kv: {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in kv.items()]}}
        ),
    ),
    max_leaves=10,
)
ATTRIBUTES = st.dictionaries(st.text(max_size=12), ANY_VALUES, max_size=4).map(
    lambda kv: [{"key": k, "value": v} for k, v in kv.items()]
)


_DEEP = "<the deep value>"


@dataclass
class Posted:
    body: bytes
    content_type: str
    spans: list[tuple[str, str]]  # (trace id, span id) in hex, when the body is a request


@st.composite
def otlp_requests(draw: st.DrawFn) -> dict[str, Any]:
    """An OTLP/JSON request, its ids as bytes (hex-encoded when sent)."""
    resource_spans = []
    for _ in range(draw(st.integers(1, 2))):
        scope_spans = []
        for _ in range(draw(st.integers(1, 2))):
            spans = []
            trace_id = draw(st.binary(min_size=16, max_size=16))
            for _ in range(draw(st.integers(0, 4))):
                span_id = draw(st.binary(min_size=8, max_size=8))
                start, end = sorted(draw(st.tuples(TIMES, TIMES)))
                span = {
                    "traceId": trace_id,
                    "spanId": span_id,
                    "parentSpanId": draw(st.sampled_from([b"", b"\x01" * 8])),
                    "name": draw(TEXT),
                    "kind": draw(st.integers(0, 5)),
                    "startTimeUnixNano": str(start),
                    "endTimeUnixNano": str(end),
                    "attributes": draw(ATTRIBUTES),
                    "status": draw(
                        st.fixed_dictionaries({"code": st.integers(0, 2), "message": TEXT})
                    ),
                    "events": [
                        {
                            "name": draw(TEXT),
                            "timeUnixNano": str(draw(TIMES)),
                            "attributes": draw(ATTRIBUTES),
                        }
                    ],
                }
                spans.append(span)
            scope_spans.append({"scope": {"name": draw(TEXT)}, "spans": spans})
        resource_spans.append(
            {"resource": {"attributes": draw(ATTRIBUTES)}, "scopeSpans": scope_spans}
        )
    return {"resourceSpans": resource_spans}


def _span_ids_nodes(request_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Every span still in place in a (maybe corrupted) request."""

    def items(node: Any, key: str) -> list[Any]:
        value = node.get(key) if isinstance(node, dict) else None
        return value if isinstance(value, list) else []

    return [
        span
        for rs in items(request_dict, "resourceSpans")
        for ss in items(rs, "scopeSpans")
        for span in items(ss, "spans")
        if isinstance(span, dict)
        and isinstance(span.get("traceId"), bytes)
        and isinstance(span.get("spanId"), bytes)
    ]


def _span_ids(request_dict: dict[str, Any]) -> list[tuple[str, str]]:
    """(trace id, span id) of the spans a 2xx answer must have stored."""
    return [(s["traceId"].hex(), s["spanId"].hex()) for s in _span_ids_nodes(request_dict)]


def _corrupt(node: Any, draw: st.DrawFn) -> None:
    """Replace one field, somewhere in ``node``, by any JSON value."""
    while True:
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            child = node[key]
        elif isinstance(node, list) and node:
            key = draw(st.integers(0, len(node) - 1))
            child = node[key]
        else:
            return
        if not isinstance(child, (dict, list)) or not child or draw(st.booleans()):
            node[key] = draw(JSON_VALUES)
            return
        node = child


def _ids_as(node: Any, encode: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: encode(v) if isinstance(v, bytes) else _ids_as(v, encode) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_ids_as(v, encode) for v in node]
    return node


@st.composite
def bodies(draw: st.DrawFn) -> Posted:
    kind = draw(st.sampled_from(["json", "protobuf", "bytes", "any-json", "deep"]))
    if kind == "bytes":
        content_type = draw(st.sampled_from(["application/json", "application/x-protobuf"]))
        return Posted(draw(st.binary(max_size=300)), content_type, [])
    if kind == "any-json":
        return Posted(json.dumps(draw(JSON_VALUES)).encode(), "application/json", [])
    request_dict = draw(otlp_requests())
    deep = ""
    if kind == "deep":  # a value nested deep (maps in arrays...): protobuf takes 100 levels
        depth = draw(st.one_of(st.integers(1, 40), st.integers(900, 3000)))
        deep = '{"intValue": "1"}'
        for level in range(depth):
            if level % 2:
                deep = '{"arrayValue": {"values": [' + deep + "]}}"
            else:
                deep = '{"kvlistValue": {"values": [{"key": "k", "value": ' + deep + "}]}}"
        for span in _span_ids_nodes(request_dict)[:1]:
            span["attributes"] = [{"key": "deep", "value": {"stringValue": _DEEP}}]
        kind = "json"
    if draw(st.booleans()):  # one field anywhere gets any JSON value: a wrong type or shape
        _corrupt(request_dict, draw)
    spans = _span_ids(request_dict)
    if kind == "json":
        body = json.dumps(_ids_as(request_dict, bytes.hex), ensure_ascii=draw(st.booleans()))
        body = body.replace(json.dumps({"stringValue": _DEEP}), deep)
        return Posted(body.encode(), "application/json", spans)
    message = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(
            _ids_as(request_dict, lambda b: base64.b64encode(b).decode()), message
        )
    except json_format.ParseError:  # a wrong type somewhere: send it as JSON then
        body = json.dumps(_ids_as(request_dict, bytes.hex)).encode()
        return Posted(body, "application/json", spans)
    return Posted(message.SerializeToString(), "application/x-protobuf", spans)


@st.composite
def posts(draw: st.DrawFn) -> tuple[Posted, str | None]:
    """A body, maybe gzipped (one or two members) and maybe cut short."""
    posted = draw(bodies())
    encoding = draw(st.sampled_from([None, "gzip", "gzip-2", "cut"]))
    if encoding == "gzip":
        posted.body = gzip.compress(posted.body)
    elif encoding == "gzip-2":
        half = len(posted.body) // 2
        posted.body = gzip.compress(posted.body[:half]) + gzip.compress(posted.body[half:])
    elif encoding == "cut" and posted.body:
        posted.body = posted.body[: draw(st.integers(0, len(posted.body) - 1))]
        posted.spans = []  # whatever survives the cut is checked through the protobuf parse
    return posted, "gzip" if encoding in ("gzip", "gzip-2") else None


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    store = tmp_path_factory.mktemp("otlp-fuzz") / "store"
    live = LiveServer(create_app(store))
    yield live, store
    live.close()


def _accepted_spans(posted: Posted) -> list[tuple[str, str]]:
    """The spans a 2xx must have stored: the generated ones, or what protobuf parses."""
    if posted.spans or posted.content_type != "application/x-protobuf":
        return posted.spans
    body = posted.body
    try:
        body = gzip.decompress(body)
    except (OSError, EOFError):
        pass
    try:
        message = ExportTraceServiceRequest.FromString(body)
    except Exception:  # not protobuf: then it was not accepted
        return []
    return [
        (span.trace_id.hex(), span.span_id.hex())
        for rs in message.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]


@BUDGET
@given(post=posts())
def test_any_otlp_body_gets_2xx_or_4xx_and_nothing_accepted_is_lost(
    receiver: tuple[LiveServer, Path], post: tuple[Posted, str | None]
) -> None:
    live, store_path = receiver
    posted, encoding = post
    headers = {"Content-Type": posted.content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    reply = request("POST", live.url + "/v1/traces", posted.body, headers)
    assert 200 <= reply.status < 300 or 400 <= reply.status < 500, (reply.status, reply.body)
    if reply.status >= 300:
        return
    store = FileStore(store_path)
    for trace_id, span_id in _accepted_spans(posted):
        try:
            trace = store.get_trace(trace_id)
        except NotFoundError:
            pytest.fail(f"accepted trace {trace_id} is not in the store")
        assert span_id in {s.span_id for s in trace.spans}, (trace_id, span_id)
