"""One OTLP/JSON codec: the SDK's file exporter and the server's receiver write the same
bytes for the same span, every line is strict JSON, and opentelemetry-proto parses it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from otelfeedback._internal.otlp_json.decode import iter_spans
from otelfeedback._internal.otlp_json.sdk_lines import sdk_spans_line
from otelfeedback.export.file_store import FileStoreSpanExporter
from otelfeedback.server import create_app
from otelfeedback.server.otlp_codec import decode_protobuf, to_line
from tests.export.test_file_store import parse_otlp_json_line, read_lines
from tests.server.live import LiveServer


class _Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Any) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


ODD_VALUES: dict[str, Any] = {
    "nan": math.nan,
    "inf": math.inf,
    "neg_inf": -math.inf,
    "float": 1234567.5,
    "int": -(2**63),
    "big": 2**63 - 1,
    "bool": True,
    "empty": "",
    "text": "ünïcode 東京 🚀",
    "floats": (1.5, math.nan, -math.inf),
    "strings": ("a", ""),
    "long": 'a "quoted" line\n' * 200 + "東京",  # long values are written as parts of their own
    "after_long": 7,
}


def _spans(provider: TracerProvider) -> None:
    tracer = provider.get_tracer("codec-test", "1.2.3", attributes={"scope.attr": 1})
    remote = NonRecordingSpan(
        SpanContext(
            0x0AF7651916CD43DD8448EB211C80319C,
            0xB7AD6B7169203331,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
            trace_state=TraceState([("vendor", "x")]),
        )
    )
    link = Link(
        SpanContext(0x1F, 0x2F, is_remote=True, trace_flags=TraceFlags(1)), {"link.nan": math.nan}
    )
    with tracer.start_as_current_span(
        "root", context=set_span_in_context(remote), links=[link], attributes=ODD_VALUES
    ) as root:
        root.add_event("evt", {"e.inf": math.inf, "e.s": "v"})
        root.add_event("bare")
        with tracer.start_as_current_span("child") as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))
    with tracer.start_as_current_span("ok") as ok:
        ok.set_status(Status(StatusCode.OK))


@pytest.fixture
def finished() -> list[ReadableSpan]:
    keep = _Keep()
    provider = TracerProvider(resource=Resource.create({"service.name": "codec", "r.nan": -0.0}))
    provider.add_span_processor(SimpleSpanProcessor(keep))
    _spans(provider)
    provider.shutdown()
    return keep.spans


def _strict_json(line: bytes) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"not strict JSON: bare {token}")

    return json.loads(line, parse_constant=refuse)


def test_sdk_and_receiver_paths_write_byte_identical_lines(
    finished: list[ReadableSpan],
) -> None:
    sdk_line = sdk_spans_line(finished)
    # What the standard OTLP exporter sends, as the server's receiver decodes and writes it.
    body = encode_spans(finished).SerializeToString()
    receiver_line = to_line(decode_protobuf(body))
    assert sdk_line == receiver_line
    data = _strict_json(sdk_line)
    spans = data["resourceSpans"][0]["scopeSpans"][0]["spans"]
    root = next(s for s in spans if s["name"] == "root")
    values = {kv["key"]: kv["value"] for kv in root["attributes"]}
    assert values["nan"] == {"doubleValue": "NaN"}
    assert values["inf"] == {"doubleValue": "Infinity"}
    assert values["neg_inf"] == {"doubleValue": "-Infinity"}
    assert values["int"] == {"intValue": str(-(2**63))}


class _PublicOnly:
    """A span offering only ``ReadableSpan``'s public properties (another implementation, or
    an SDK whose private fields differ)."""

    _PUBLIC = (
        "context",
        "parent",
        "name",
        "kind",
        "start_time",
        "end_time",
        "attributes",
        "status",
        "events",
        "links",
        "dropped_attributes",
        "dropped_events",
        "dropped_links",
        "resource",
        "instrumentation_scope",
    )

    def __init__(self, span: ReadableSpan) -> None:
        for name in self._PUBLIC:
            object.__setattr__(self, "p_" + name, getattr(span, name))

    def __getattr__(self, name: str) -> Any:
        if name in self._PUBLIC:
            return object.__getattribute__(self, "p_" + name)
        raise AttributeError(name)


def test_spans_without_the_sdks_private_fields_encode_the_same(
    finished: list[ReadableSpan],
) -> None:
    keep = _Keep()
    limited = TracerProvider(span_limits=SpanLimits(max_span_attributes=2))
    limited.add_span_processor(SimpleSpanProcessor(keep))
    with limited.get_tracer("limits").start_as_current_span("over", attributes=ODD_VALUES):
        pass
    spans = [*finished, *keep.spans]
    public: Any = [_PublicOnly(span) for span in spans]
    assert not hasattr(public[0], "_context")
    line = sdk_spans_line(public)
    assert line == sdk_spans_line(spans)
    assert b'"droppedAttributesCount":' in line


def test_every_line_parses_with_opentelemetry_proto(finished: list[ReadableSpan]) -> None:
    line = sdk_spans_line(finished).decode()
    message = parse_otlp_json_line(line)
    spans = [s for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert [s.name for s in spans] == [s.name for s in finished]
    root = next(s for s in spans if s.name == "root")
    values = {kv.key: kv.value for kv in root.attributes}
    assert math.isnan(values["nan"].double_value)
    assert values["neg_inf"].double_value == -math.inf


def test_decoder_reads_back_what_the_encoder_wrote(finished: list[ReadableSpan]) -> None:
    decoded = list(iter_spans(_strict_json(sdk_spans_line(finished))))
    root = next(s for s in decoded if s.name == "root")
    assert math.isnan(root.attributes["nan"])
    assert root.attributes["inf"] == math.inf
    assert root.attributes["text"] == ODD_VALUES["text"]
    assert root.attributes["empty"] == ""
    assert root.parent_id == "b7ad6b7169203331"
    assert root.links[0]["span_id"] == "000000000000002f"
    assert [e.name for e in root.events] == ["evt", "bare"]
    child = next(s for s in decoded if s.name == "child")
    assert (child.status_code, child.status_message) == (2, "boom")
    assert root.resource["service.name"] == "codec"
    assert root.scope == {"name": "codec-test", "version": "1.2.3"}


def test_file_store_and_server_store_hold_the_same_lines(tmp_path: Path) -> None:
    """End to end: the same spans through the file-store exporter and through the standard
    OTLP/HTTP exporter to a live server land as identical lines in both stores."""
    local, served = tmp_path / "local", tmp_path / "served"
    server = LiveServer(create_app(served))
    try:
        provider = TracerProvider(resource=Resource.create({"service.name": "codec"}))
        provider.add_span_processor(SimpleSpanProcessor(FileStoreSpanExporter(local)))
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=server.url + "/v1/traces"))
        )
        _spans(provider)
        provider.shutdown()
    finally:
        server.close()
    local_lines, served_lines = read_lines(local), read_lines(served)
    assert len(local_lines) == 3  # one export call per span with a simple processor
    assert local_lines == served_lines
    for line in local_lines:
        _strict_json(line.encode())
