"""``add_attributes``: what ``span.set_attributes`` records, for plain values without the
SDK's per-value pass, and exactly ``set_attributes`` whenever the fast path could differ
(limits, other value types, an ended span, a span that is not the SDK's)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otelfeedback.tracing.sdk_attributes import add_attributes

Setter = Callable[[trace_api.Span, Mapping[str, Any]], None]


def _sdk_set(span: trace_api.Span, attributes: Mapping[str, Any]) -> None:
    span.set_attributes(attributes)


def _record(
    setter: Setter, batches: list[Mapping[str, Any]], limits: SpanLimits | None = None
) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=limits or SpanLimits())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("t").start_span("s", attributes={"first": "a"})
    for batch in batches:
        setter(span, batch)
    span.end()
    (finished,) = exporter.get_finished_spans()
    return finished


def _same_as_sdk(batches: list[Mapping[str, Any]], limits: SpanLimits | None = None) -> None:
    ours = _record(add_attributes, batches, limits)
    sdk = _record(_sdk_set, batches, limits)
    assert list((ours.attributes or {}).items()) == list((sdk.attributes or {}).items())
    assert ours.dropped_attributes == sdk.dropped_attributes


PLAIN = {
    "s": "text",
    "empty": "",
    "i": 2**70,  # past 64 bits: the SDK keeps it too (the exporters deal with it)
    "f": float("nan"),
    "b": True,
    "strings": ["stop", "length"],
    "tuple": ("x",),
    "surrogate": "\ud800",
}


def test_plain_values_are_recorded_like_set_attributes_lists_as_tuples() -> None:
    _same_as_sdk([PLAIN])
    span = _record(add_attributes, [PLAIN])
    assert span.attributes is not None and span.attributes["strings"] == ("stop", "length")


def test_a_key_set_again_moves_to_the_end_like_the_sdk() -> None:
    _same_as_sdk([{"a": 1, "b": 2}, {"first": "again", "a": 3}])


@pytest.mark.parametrize(
    "values",
    [
        {"n": None},
        {"mixed": ["a", 1]},
        {"nested": {"k": "v"}},
        {"obj": object()},
        {"": "empty key"},
        {"bytes": b"x"},
    ],
)
def test_other_values_go_through_set_attributes(values: dict[str, Any]) -> None:
    logging.getLogger("opentelemetry.attributes").setLevel(logging.CRITICAL)
    _same_as_sdk([{"ok": "yes", **values}])


def test_the_count_limit_drops_the_oldest_like_the_sdk() -> None:
    limits = SpanLimits(max_span_attributes=4)
    _same_as_sdk([{"a": 1, "b": 2}, {"c": 3, "d": 4, "e": 5}], limits)
    span = _record(add_attributes, [{"a": 1, "b": 2}, {"c": 3, "d": 4, "e": 5}], limits)
    assert list(span.attributes or {}) == ["b", "c", "d", "e"]
    assert span.dropped_attributes == 2


def test_the_value_length_limit_cuts_like_the_sdk() -> None:
    limits = SpanLimits(max_span_attribute_length=3)
    _same_as_sdk([{"long": "abcdef", "list": ["abcdef"]}], limits)
    span = _record(add_attributes, [{"long": "abcdef"}], limits)
    assert span.attributes is not None and span.attributes["long"] == "abc"


def test_an_ended_span_is_not_changed() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("t").start_span("s")
    span.end()
    add_attributes(span, {"late": "value"})
    (finished,) = exporter.get_finished_spans()
    assert "late" not in (finished.attributes or {})
    assert "late" not in (span.attributes or {})  # type: ignore[attr-defined]


def test_a_span_that_is_not_the_sdks_takes_set_attributes() -> None:
    add_attributes(trace_api.INVALID_SPAN, {"a": "b"})  # no error, nothing recorded
