"""Values OTLP cannot carry never lose a span, or the batch around it (issue 13).

Python lets an app set an attribute to an integer of any size or to a string holding a lone
UTF-16 surrogate; OTLP integers are 64-bit and its strings UTF-8. The SDK makes such values
encodable at the edge (``otelfeedback._internal.otlp_json.values``), for every exporter.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import Status, StatusCode

import otelfeedback
from otelfeedback._internal.otlp_json.values import encodable, encodable_attributes, safe_text
from otelfeedback.export.encodable import encodable_span
from otelfeedback.store import FileStore

BAD_VALUES = {
    "big": 2**63,
    "huge": 10**400,
    "enormous": 10**5000,
    "negative": -(2**64),
    "surrogate": "a\ud800b",
    "pair": "\ud83d\ude00",
    "array": [1, 2**64],
    "nan": float("nan"),
    "inf": float("-inf"),
}


def _emit_batch(provider: TracerProvider, n: int = 101) -> None:
    tracer = provider.get_tracer("test")
    for i in range(n):
        with tracer.start_as_current_span(f"span-{i}") as span:
            span.set_attribute("i", i)
            if i == 50:
                for key, value in BAD_VALUES.items():
                    span.set_attribute(key, value)
                span.set_attribute("k\udfff", "v")
                span.add_event("e\ud800", {"n": 2**70})
                span.update_name("bad \ud800 name")


def test_a_bad_value_loses_no_span_of_its_file_store_batch(tmp_path: Path) -> None:
    config = otelfeedback.configure(store=tmp_path, export_batch_size=512)
    assert isinstance(config.tracer_provider, TracerProvider)
    _emit_batch(config.tracer_provider)
    assert otelfeedback.flush(10)
    stats = config.stats()["FileStoreSpanExporter"]
    assert stats["exported"] == 101 and stats["failed"] == 0
    lines = (tmp_path / "traces" / "segment-000001.jsonl").read_bytes().splitlines()
    for raw in lines:
        json.loads(raw.decode("utf-8"))  # strict UTF-8 and standard JSON (no bare NaN)
        assert b"NaN" not in raw or b'"NaN"' in raw
    with FileStore(tmp_path) as store:
        traces = store.search_traces(max_results=None)
        assert len(traces) == 101
        bad = next(t for t in traces if t.info.name == "bad \ufffd name")
        attrs = bad.spans[0].attributes
    assert attrs["big"] == str(2**63)
    assert attrs["huge"] == str(10**400)
    assert attrs["enormous"] == hex(10**5000)
    assert attrs["negative"] == str(-(2**64))
    assert attrs["surrogate"] == "a\ufffdb"
    assert attrs["pair"] == "\U0001f600"
    assert attrs["array"] == ["1", str(2**64)]
    assert math.isnan(attrs["nan"]) and attrs["inf"] == float("-inf")
    assert attrs["k\ufffd"] == "v"
    assert bad.spans[0].events[0].name == "e\ufffd"


def test_a_bad_value_loses_no_span_of_its_otlp_batch(otlp_http) -> None:  # type: ignore[no-untyped-def]
    config = otelfeedback.configure(store="", otlp_endpoint=otlp_http.endpoint)
    assert isinstance(config.tracer_provider, TracerProvider)
    _emit_batch(config.tracer_provider)
    assert otelfeedback.flush(10)
    spans = otlp_http.wait_for(101)
    assert len(spans) == 101
    stats = config.stats()["OTLPHttpSpanExporter"]
    assert stats["exported"] == 101 and stats["failed"] == 0
    bad = next(s for s in spans if s.name == "bad \ufffd name")
    assert bad.attributes["big"] == str(2**63)
    assert bad.attributes["surrogate"] == "a\ufffdb"
    assert bad.attributes["array"] == ["1", str(2**64)]


def test_times_past_64_bits_are_clamped(tmp_path: Path) -> None:
    config = otelfeedback.configure(store=tmp_path)
    assert isinstance(config.tracer_provider, TracerProvider)
    tracer = config.tracer_provider.get_tracer("test")
    span = tracer.start_span("far", start_time=2**64 + 5)
    span.end(end_time=2**65)
    assert otelfeedback.flush(10)
    raw = json.loads((tmp_path / "traces" / "segment-000001.jsonl").read_bytes())
    encoded = raw["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert encoded["startTimeUnixNano"] == encoded["endTimeUnixNano"] == str(2**64 - 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("é\ud800", "é\ufffd"),
        ("\ud83d\ude00", "\U0001f600"),  # a pair given as two code points is joined
        ("\ude00\ud83d", "\ufffd\ufffd"),  # reversed: two lone surrogates
        (2**63 - 1, 2**63 - 1),
        (-(2**63), -(2**63)),
        (2**63, "9223372036854775808"),
        ((1, 2**63), ("1", "9223372036854775808")),
        ({"k\ud800": [True, 1.5]}, {"k\ufffd": [True, 1.5]}),
        (b"\xff", b"\xff"),
    ],
)
def test_the_value_rule(value: object, expected: object) -> None:
    assert encodable(value) == expected


def test_the_value_rule_leaves_good_values_untouched() -> None:
    for value in ("x", "é", 5, [1, 2], ("a", "b"), {"a": 1}):
        assert encodable(value) is value
    text = "ok"
    assert safe_text(text) is text


_scalars = st.one_of(
    st.text(),  # lone surrogates included
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.booleans(),
)
_attribute_values = st.one_of(
    _scalars,
    st.lists(st.text(), max_size=3).map(tuple),
    st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=3),
    st.lists(st.floats(), max_size=3).map(tuple),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _attribute_values, max_size=8))
def test_attributes_are_repaired_exactly_when_a_value_needs_it(attributes: dict) -> None:  # type: ignore[type-arg]
    """The batch processor's check passes a span on
    untouched exactly when no key or value needs the rule, and repairs it as the rule says."""
    expected = {encodable(key): encodable(value) for key, value in attributes.items()}
    needs_repair = any(
        encodable(key) is not key or encodable(value) is not value
        for key, value in attributes.items()
    )
    result = encodable_attributes(attributes)
    assert (result is not attributes) == needs_repair
    assert result == expected


def _ended(name: str = "ok", **kwargs: object) -> ReadableSpan:
    tracer = TracerProvider().get_tracer("t")
    span = tracer.start_span(name, attributes={"k": "v", "n": 1}, start_time=10)
    if "status" in kwargs:
        span.set_status(Status(StatusCode.ERROR, str(kwargs["status"])))
    if "value" in kwargs:
        span.set_attribute("bad", kwargs["value"])  # type: ignore[arg-type]
    span.end(end_time=int(kwargs.get("end", 20)))  # type: ignore[call-overload]
    return span  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("span", "check"),
    [
        (_ended("bad \ud800 name"), lambda s: s.name == "bad \ufffd name"),
        (_ended(status="bad \udfff"), lambda s: s.status.description == "bad \ufffd"),
        (_ended(value=2**64), lambda s: s.attributes["bad"] == str(2**64)),
        (_ended(value="x\ud800"), lambda s: s.attributes["bad"] == "x\ufffd"),
        (_ended(end=2**70), lambda s: s.end_time == 2**64 - 1),
    ],
    ids=["name", "status", "int", "surrogate", "time"],
)
def test_a_span_without_events_is_repaired_too(span: ReadableSpan, check: Any) -> None:
    """The check's shortcut for spans without events or links still catches every rule."""
    fixed = encodable_span(span)
    assert fixed is not span and check(fixed)
    assert fixed.attributes["k"] == "v" and fixed.attributes["n"] == 1


def test_a_clean_span_is_passed_on_as_it_is() -> None:
    span = _ended("é ok", status="fine")
    assert encodable_span(span) is span
