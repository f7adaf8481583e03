"""Per-call overhead of @otelfeedback.trace against raw OpenTelemetry spans doing the same work.

Both sides use one TracerProvider, one processor (our bounded batch processor) and one exporter
(discarding), in the same process; the raw side JSON-encodes inputs and outputs into the same
attributes. Overhead = time per call minus the undecorated function's time; the ratio is ours
over raw. Target: every ratio <= 1.3.

    python bench/tracing_overhead.py [--calls 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import otelfeedback
from otelfeedback.export.batch import BoundedBatchSpanProcessor


class CountingExporter(SpanExporter):
    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


exporter = CountingExporter()
processor = BoundedBatchSpanProcessor(exporter, max_queue_size=1_000_000, max_batch_size=4096)
provider = TracerProvider()
provider.add_span_processor(processor)
tracer = provider.get_tracer("raw")
otelfeedback.configure(tracer_provider=provider)

DOCS = {"documents": [{"id": i, "text": chr(97 + i) * 500} for i in range(20)]}


# --- the work itself ---------------------------------------------------------------------
def small(x: int, y: int = 2) -> int:
    return x + y


def inner(q: str) -> str:
    return q.upper()


def outer(q: str) -> list[str]:
    return [inner(q), inner(q), inner(q)]


def big(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


# --- raw OpenTelemetry -------------------------------------------------------------------
def raw_small(x: int, y: int = 2) -> int:
    with tracer.start_as_current_span("small") as span:
        span.set_attribute("input.value", json.dumps({"x": x, "y": y}))
        result = small(x, y)
        span.set_attribute("output.value", json.dumps(result))
        return result


def raw_inner(q: str) -> str:
    with tracer.start_as_current_span("inner") as span:
        span.set_attribute("input.value", json.dumps({"q": q}))
        result = inner(q)
        span.set_attribute("output.value", json.dumps(result))
        return result


def raw_outer(q: str) -> list[str]:
    with tracer.start_as_current_span("outer") as span:
        span.set_attribute("input.value", json.dumps({"q": q}))
        result = [raw_inner(q), raw_inner(q), raw_inner(q)]
        span.set_attribute("output.value", json.dumps(result))
        return result


def raw_big(payload: dict[str, Any]) -> dict[str, Any]:
    with tracer.start_as_current_span("big") as span:
        span.set_attribute("input.value", json.dumps({"payload": payload}))
        result = big(payload)
        span.set_attribute("output.value", json.dumps(result))
        return result


# --- otelfeedback ------------------------------------------------------------------------
ours_small = otelfeedback.trace(small)
ours_inner = otelfeedback.trace(inner)


@otelfeedback.trace
def ours_outer(q: str) -> list[str]:
    return [ours_inner(q), ours_inner(q), ours_inner(q)]


ours_big = otelfeedback.trace(big)

WORKLOADS: dict[str, tuple[Callable[[], Any], Callable[[], Any], Callable[[], Any]]] = {
    "W1 small function": (lambda: small(1), lambda: raw_small(1), lambda: ours_small(1)),
    "W2 outer + 3 inner": (lambda: outer("q"), lambda: raw_outer("q"), lambda: ours_outer("q")),
    "W3 ~10 KB in/out": (lambda: big(DOCS), lambda: raw_big(DOCS), lambda: ours_big(DOCS)),
}


def per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    elapsed = time.perf_counter() - start
    processor.force_flush()  # keep the queue from growing across rounds
    return elapsed / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    worst = 0.0
    print(f"{'workload':<22}{'raw OTel µs':>13}{'otelfeedback µs':>17}{'ratio':>8}")
    for name, (bare, raw, ours) in WORKLOADS.items():
        calls = args.calls // (10 if name.startswith("W3") else 1)
        for fn in (bare, raw, ours):  # warm up
            per_call(fn, max(100, calls // 10))
        raw_over, ours_over = [], []
        for _ in range(args.rounds):  # interleaved rounds: drift hits both sides alike
            base = per_call(bare, calls)
            raw_over.append(per_call(raw, calls) - base)
            ours_over.append(per_call(ours, calls) - base)
        r, o = statistics.median(raw_over) * 1e6, statistics.median(ours_over) * 1e6
        ratio = o / r
        worst = max(worst, ratio)
        print(f"{name:<22}{r:>13.2f}{o:>17.2f}{ratio:>8.2f}")
    print(f"worst ratio {worst:.2f} (target <= 1.30); spans exported: {exporter.count}")


if __name__ == "__main__":
    main()
