"""Long string values are quoted by orjson when it is installed (the ``fast`` extra), by the
standard library otherwise: the file store's lines are the same bytes either way."""

from __future__ import annotations

import json.encoder
import subprocess
import sys
from importlib.util import find_spec

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

from otelfeedback._internal.otlp_json.sdk_lines import quote_with_orjson, sdk_spans_line

pytestmark = pytest.mark.skipif(
    find_spec("orjson") is None, reason="the fast extra is not installed"
)

#: Every code point but the surrogates, in strings long enough to take the long-value path.
CODE_POINTS = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def test_orjson_quotes_every_code_point_as_the_standard_library_does() -> None:
    standard = json.encoder.encode_basestring
    for start in range(0, len(CODE_POINTS), 4096):
        chunk = CODE_POINTS[start : start + 4096]
        assert quote_with_orjson(chunk) == standard(chunk), f"differs in chunk at {start}"
    for text in ("", '"', "\\", "\x00\x1f\x7f", "\u2028\u2029", "a" * 10_000_000):
        assert quote_with_orjson(text) == standard(text)


def test_a_lone_surrogate_falls_back_to_the_standard_library() -> None:
    text = "x" * 2000 + "\ud800" + "y"
    assert quote_with_orjson(text) == json.encoder.encode_basestring(text)


LONG_VALUES = {
    "controls": 'line\n\ttab\x00nul\x1fus "quoted" back\\slash ' * 100,
    "unicode": "東京 ünïcode 🚀 \u2028 " * 200,
    "surrogate": "before " * 300 + "\udfff lone",
    "json": json.dumps({"documents": [{"id": i, "text": "t" * 500} for i in range(20)]}),
}


class _FixedIds(IdGenerator):
    def generate_trace_id(self) -> int:
        return 0x5B8EFFF798038103D269B633813FC60C

    def generate_span_id(self) -> int:
        return 0xEEE19B7EC3C1B174


def _line() -> bytes:
    """One span holding ``LONG_VALUES``, the same in every process, as a store line."""
    keep = InMemorySpanExporter()
    provider = TracerProvider(id_generator=_FixedIds(), resource=Resource({"service.name": "q"}))
    provider.add_span_processor(SimpleSpanProcessor(keep))
    span = provider.get_tracer("quoting").start_span("long", attributes=LONG_VALUES, start_time=1)
    span.end(end_time=2)
    return sdk_spans_line(keep.get_finished_spans())


def test_lines_are_the_same_bytes_with_and_without_orjson() -> None:
    with_orjson = _line()
    # The same spans encoded in a process where orjson cannot be imported.
    script = (
        "import sys; sys.modules['orjson'] = None\n"
        "from tests.export.test_fast_quoting import _line\n"
        "sys.stdout.buffer.write(_line())\n"
    )
    without = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, timeout=120
    ).stdout
    assert with_orjson == without
    span = json.loads(with_orjson)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    values = {kv["key"]: kv["value"]["stringValue"] for kv in span["attributes"]}
    assert values["controls"] == LONG_VALUES["controls"]
    assert values["unicode"] == LONG_VALUES["unicode"]
    assert values["surrogate"] == LONG_VALUES["surrogate"].replace("\udfff", "\ufffd")
