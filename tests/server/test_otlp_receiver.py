"""POST /v1/traces: protobuf, JSON and gzip bodies from raw posts and from real exporters."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import otelfeedback
from otelfeedback.server import create_app
from otelfeedback.store import FileStore
from tests.server.live import LiveServer, get, gzipped, request

PB = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


@otelfeedback.trace
def answer(question: str) -> str:
    return "42"


def make_request(spans: int = 3, trace_id: bytes | None = None) -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "raw-poster"
    ss = rs.scope_spans.add()
    ss.scope.name = "tests"
    tid = trace_id or os.urandom(16)
    root = os.urandom(8)
    for i in range(spans):
        span = ss.spans.add()
        span.trace_id = tid
        span.span_id = root if i == 0 else os.urandom(8)
        if i:
            span.parent_span_id = root
        span.name = f"span-{i}"
        span.kind = 1
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + i * 1000
        span.end_time_unix_nano = 1_700_000_000_000_000_000 + i * 1000 + 500_000
        attr = span.attributes.add()
        attr.key, attr.value.int_value = "n", i
        attr = span.attributes.add()
        attr.key, attr.value.string_value = "input.value", f"question {i}"
    return req


def store_lines(store: Path) -> list[dict]:
    lines = []
    for path in sorted((store / "traces").glob("segment-*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines() if line]
    return lines


def test_protobuf_post_is_stored_as_collector_style_otlp_json(tmp_path: Path) -> None:
    store = tmp_path / "store"
    live = LiveServer(create_app(store))
    try:
        req = make_request(3)
        reply = request("POST", live.url + "/v1/traces", req.SerializeToString(), PB)
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/x-protobuf"
        ExportTraceServiceResponse().ParseFromString(reply.body)
    finally:
        live.close()
    (line,) = store_lines(store)
    span = line["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    tid = req.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
    assert span["traceId"] == tid  # hex, not protobuf-JSON's base64
    assert span["parentSpanId"] == req.resource_spans[0].scope_spans[0].spans[0].span_id.hex()
    assert span["startTimeUnixNano"] == "1700000000000001000"  # int64 as a string
    assert {"key": "n", "value": {"intValue": "1"}} in span["attributes"]
    trace = FileStore(store).get_trace(tid)
    assert [s.name for s in trace.spans] == ["span-0", "span-1", "span-2"]
    assert trace.info.service_name == "raw-poster"


def test_json_and_gzip_posts_are_stored(empty_server: LiveServer, tmp_path: Path) -> None:
    from otelfeedback._internal.otlp_json.encode import encode_request as to_otlp_json

    req = make_request(2)
    body = json.dumps(to_otlp_json(req)).encode()
    assert request("POST", empty_server.url + "/v1/traces", body, JSON).status == 200
    gz = make_request(4)
    reply = request(
        "POST",
        empty_server.url + "/v1/traces",
        gzipped(gz.SerializeToString()),
        {**PB, "Content-Encoding": "gzip"},
    )
    assert reply.status == 200
    gzjson = make_request(1)
    reply = request(
        "POST",
        empty_server.url + "/v1/traces",
        gzipped(json.dumps(to_otlp_json(gzjson)).encode()),
        {**JSON, "Content-Encoding": "gzip"},
    )
    assert (reply.status, reply.json()) == (200, {})
    page = get(empty_server.url + "/api/traces").json()
    assert sorted(t["info"]["span_count"] for t in page["traces"]) == [1, 2, 4]


def test_otel_sdk_exporter_and_otelfeedback_configure_export_to_the_server(
    empty_server: LiveServer,
) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "plain-otel"}))
    exporter = OTLPSpanExporter(
        endpoint=empty_server.url + "/v1/traces", compression=Compression.Gzip
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("plain-otel-root"):
        pass
    provider.shutdown()

    otelfeedback.configure(store="", otlp_endpoint=empty_server.url, service_name="ours")
    answer("What is the answer?")
    assert otelfeedback.flush(10)
    names = {t["info"]["name"] for t in get(empty_server.url + "/api/traces").json()["traces"]}
    assert names == {"plain-otel-root", "answer"}


def _status(reply_body: bytes) -> str:
    status = Status()
    status.ParseFromString(reply_body)
    return str(status.message)


def test_malformed_bodies_get_400_with_the_reason(empty_server: LiveServer) -> None:
    url = empty_server.url + "/v1/traces"
    reply = request("POST", url, b"\xff\x00not protobuf", PB)
    assert reply.status == 400
    assert "not a protobuf" in _status(reply.body)

    bad_id = make_request(1)
    bad_id.resource_spans[0].scope_spans[0].spans[0].trace_id = b"\x01\x02"
    reply = request("POST", url, bad_id.SerializeToString(), PB)
    assert reply.status == 400
    assert "spans[0].traceId" in _status(reply.body)

    reply = request("POST", url, b"{not json", JSON)
    assert reply.status == 400 and "not JSON" in reply.json()["message"]
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "abc", "spanId": "x"}]}]}]}
    reply = request("POST", url, json.dumps(body).encode(), JSON)
    assert reply.status == 400
    assert "traceId" in reply.json()["message"]
    reply = request("POST", url, json.dumps({"resourceSpans": "nope"}).encode(), JSON)
    assert reply.status == 400

    reply = request("POST", url, gzipped(b"x")[:5], {**PB, "Content-Encoding": "gzip"})
    assert reply.status == 400 and "gzip" in _status(reply.body)
    assert get(empty_server.url + "/api/traces").json()["traces"] == []


def test_wrong_content_type_or_encoding_gets_415(empty_server: LiveServer) -> None:
    url = empty_server.url + "/v1/traces"
    body = make_request(1).SerializeToString()
    reply = request("POST", url, body, {"Content-Type": "text/plain"})
    assert reply.status == 415 and "application/x-protobuf" in reply.json()["message"]
    reply = request("POST", url, body, {**PB, "Content-Encoding": "br"})
    assert reply.status == 415


def test_oversized_bodies_get_413_before_and_after_gzip(tmp_path: Path) -> None:
    live = LiveServer(create_app(tmp_path / "s", max_body_bytes=10_000))
    try:
        url = live.url + "/v1/traces"
        big = make_request(200).SerializeToString()
        assert len(big) > 10_000
        reply = request("POST", url, big, PB)
        assert reply.status == 413 and "larger than 10000" in _status(reply.body)
        bomb = gzipped(b"\x00" * 5_000_000)  # small on the wire, huge inflated
        assert len(bomb) < 10_000
        reply = request("POST", url, bomb, {**PB, "Content-Encoding": "gzip"})
        assert reply.status == 413
        small = make_request(2).SerializeToString()
        assert request("POST", url, small, PB).status == 200
    finally:
        live.close()


def test_concurrent_exporters_lose_nothing(empty_server: LiveServer) -> None:
    url = empty_server.url + "/v1/traces"
    trace_ids: list[str] = []
    errors: list[int] = []

    def post(n: int) -> None:
        for _ in range(n):
            req = make_request(5)
            trace_ids.append(req.resource_spans[0].scope_spans[0].spans[0].trace_id.hex())
            reply = request("POST", url, req.SerializeToString(), PB)
            if reply.status != 200:
                errors.append(reply.status)

    threads = [threading.Thread(target=post, args=(20,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    page = get(empty_server.url + "/api/traces?max_results=1000").json()
    assert sorted(t["info"]["trace_id"] for t in page["traces"]) == sorted(trace_ids)
    assert all(t["info"]["span_count"] == 5 for t in page["traces"])
    health = get(empty_server.url + "/api/health").json()
    assert health["ingested"]["spans"] == 600
