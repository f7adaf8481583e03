"""The export queue's byte bound counts what spans really hold: the estimate of a finished
span's memory stays close to what ``tracemalloc`` sees, for every kind of value."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

from otelfeedback.export.span_size import estimated_span_bytes

CASES: dict[str, dict[str, Any]] = {
    "no attributes": {},
    "short ascii": {f"gen_ai.key.{i}": f"value {i}" for i in range(20)},
    "numbers and flags": {"a": 1, "b": 2.5, "c": True, "d": 2**40, "e": float("nan")},
    "10 KB ascii": {"input.value": "x" * 10_000, "output.value": "y" * 10_000},
    "latin-1": {"input.value": "é" * 10_000},
    "CJK (two bytes a character)": {"input.value": "漢" * 10_000},
    "emoji (four bytes a character)": {"input.value": "😀" * 10_000},
    "a lone surrogate": {"input.value": "a\ud800" * 5_000},
    "an array of strings": {"docs": tuple(f"document {i} " * 50 for i in range(100))},
    "an array of numbers": {"scores": tuple(float(i) for i in range(1_000))},
}


def _fresh(value: Any) -> Any:
    """A new object equal to ``value`` (each span holds values of its own, as in an app)."""
    if type(value) is str:
        return value[:-1] + value[-1:] if len(value) > 1 else value
    if type(value) is float:
        return value * 1.0
    if type(value) is tuple:
        return tuple(_fresh(item) for item in value)
    return value


def _held_bytes(attributes: dict[str, Any], count: int = 50) -> tuple[float, int]:
    """Measured bytes per finished span (``count`` spans held at once), and the estimate."""
    tracer = TracerProvider().get_tracer("size")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        spans: list[ReadableSpan] = []
        for _ in range(count):
            own = {key: _fresh(value) for key, value in attributes.items()}
            span = tracer.start_span("s", attributes=own)
            span.end()
            spans.append(span)  # type: ignore[arg-type]
        del own  # the spans hold the only references to their values
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held / count, estimated_span_bytes(spans[0])


@pytest.mark.parametrize("case", list(CASES))
def test_the_estimate_is_within_half_again_of_the_real_memory(case: str) -> None:
    measured, estimate = _held_bytes(CASES[case])
    assert measured / 1.5 <= estimate <= measured * 1.5, (case, measured, estimate)
