"""Per-call cost of @otelfeedback.trace: against raw OpenTelemetry doing the same work, and
with the default file store against a discarding exporter; then a tight loop with the
defaults, counting the spans that reach the store.

Costs are process CPU per call (every thread: the export worker's encoding and writing
count), flush included, minus the undecorated function's; medians of interleaved rounds in
one process, so drift and the machine's load hit every variant alike. Variants:

- raw OTel: its own TracerProvider and our bounded batch processor with a discarding
  exporter; JSON-encodes inputs and outputs into the same attributes;
- discard: ``configure(store="", exporters=[discarding])``, the default pipeline with an
  exporter that does nothing (it skips the value-rule repair pass, as the file store does,
  so the ratio is the cost of encoding and writing alone);
- file store: ``configure(store=<temp dir>)``, the default pipeline.

Targets: ours / raw <= 1.3; file store / discard <= 1.3 on W1 and W2; every span in the
store. The tight loop (``--loop``, default 100,000 W1 + 25,000 W2 + 10,000 W3 calls) runs
with no ``configure()`` at all (the store given by ``OTELFEEDBACK_STORE``), as an
evaluation run or a batch job would.

Long string values are quoted by orjson when it is installed (the ``fast`` extra);
``--no-orjson`` measures the standard library's quoting instead, as without the extra.

    python bench/tracing_overhead.py [--calls 20000] [--rounds 7] [--loop 100000] [--no-orjson]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import otelfeedback
from otelfeedback._internal.otlp_json.segments import list_segments
from otelfeedback.export.batch import BoundedBatchSpanProcessor


class CountingExporter(SpanExporter):
    applies_value_rule = True  # no repair pass: the baseline does nothing per span

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


raw_exporter = CountingExporter()
raw_processor = BoundedBatchSpanProcessor(raw_exporter)
raw_provider = TracerProvider()
raw_provider.add_span_processor(raw_processor)
tracer = raw_provider.get_tracer("raw")
discard_exporter = CountingExporter()

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

#: name -> (spans per call, bare, raw, ours)
WORKLOADS: dict[str, tuple[int, Callable[[], Any], Callable[[], Any], Callable[[], Any]]] = {
    "W1 small function": (1, lambda: small(1), lambda: raw_small(1), lambda: ours_small(1)),
    "W2 outer + 3 inner": (
        4,
        lambda: outer("q"),
        lambda: raw_outer("q"),
        lambda: ours_outer("q"),
    ),
    "W3 ~10 KB in/out": (1, lambda: big(DOCS), lambda: raw_big(DOCS), lambda: ours_big(DOCS)),
}


def spans_in_store(directory: Path) -> int:
    """Spans in a file store, counted from its lines (the store's own segment reader)."""
    count = 0
    for _, path in list_segments(directory / "traces"):
        with open(path, "rb") as segment:
            for line in segment:
                for rs in json.loads(line)["resourceSpans"]:
                    count += sum(len(ss["spans"]) for ss in rs["scopeSpans"])
    return count


def store_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for _, path in list_segments(directory / "traces"))


def cpu_per_call(fn: Callable[[], Any], calls: int) -> float:
    """Process CPU per call, the flush of what the calls produced included."""
    start = time.process_time()
    for _ in range(calls):
        fn()
    otelfeedback.flush(60)
    raw_processor.force_flush(60000)
    return (time.process_time() - start) / calls


def load() -> str:
    return "load " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def ratios(store: Path, calls_arg: int, rounds: int) -> tuple[int, int]:
    """Print each workload's costs; return (spans expected, spans produced) for the store."""
    expected = 0
    print(
        f"{'workload':<21}{'raw µs':>9}{'discard µs':>12}{'file µs':>10}"
        f"{'ours/raw':>10}{'file/discard':>14}{'B/span':>8}{'µs/KB':>7}  spans in store"
    )
    for name, (per_call, bare, raw, ours) in WORKLOADS.items():
        calls = calls_arg // (10 if name.startswith("W3") else 1)
        before, bytes_before = spans_in_store(store), store_bytes(store)
        expected_here = 0

        def discard() -> None:
            otelfeedback.configure(store="", exporters=[discard_exporter])

        def file_store() -> None:
            otelfeedback.configure(store=store)

        for fn, setup in ((bare, discard), (raw, discard), (ours, discard), (ours, file_store)):
            setup()  # warm up
            cpu_per_call(fn, max(100, calls // 10))
            if setup is file_store and fn is ours:
                expected_here += max(100, calls // 10) * per_call
        raw_over, discard_over, file_over = [], [], []
        for _ in range(rounds):  # interleaved rounds: drift hits every variant alike
            discard()
            base = cpu_per_call(bare, calls)
            raw_over.append(cpu_per_call(raw, calls) - base)
            discard_over.append(cpu_per_call(ours, calls) - base)
            file_store()
            file_over.append(cpu_per_call(ours, calls) - base)
            expected_here += calls * per_call
        otelfeedback.configure(store="", exporters=[discard_exporter])  # closes the store
        r, d, f = (statistics.median(v) * 1e6 for v in (raw_over, discard_over, file_over))
        stored = spans_in_store(store) - before
        per_span = (store_bytes(store) - bytes_before) / max(1, stored)
        per_kb = (f - d) / per_call / (per_span / 1024)  # the file store's cost per KB written
        expected += expected_here
        print(
            f"{name:<21}{r:>9.1f}{d:>12.1f}{f:>10.1f}{d / r:>9.2f}×{f / d:>13.2f}×"
            f"{per_span:>8.0f}{per_kb:>7.2f}  {stored}/{expected_here}   ({load()})"
        )
    return expected, spans_in_store(store)


def tight_loop(directory: Path, w1: int) -> None:
    """The defaults with no configure(): W1, W2, W3 calls back to back, then flush."""
    otelfeedback.reset()
    os.environ["OTELFEEDBACK_STORE"] = str(directory)
    w2, w3 = w1 // 4, w1 // 10
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(w1):
        ours_small(i)
    for _ in range(w2):
        ours_outer("q")
    for _ in range(w3):
        ours_big(DOCS)
    otelfeedback.flush(120)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    configuration = otelfeedback.get_configuration()
    stats = configuration.stats() if configuration else {}
    otelfeedback.reset()
    del os.environ["OTELFEEDBACK_STORE"]
    expected = w1 + 4 * w2 + w3
    print(
        f"tight loop, no configure(): {w1} W1 + {w2} W2 + {w3} W3 calls in {wall:.1f} s "
        f"({cpu:.1f} s CPU): {spans_in_store(directory)}/{expected} spans in store; "
        f"stats {stats.get('FileStoreSpanExporter')} ({load()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--loop", type=int, default=100_000, help="W1 calls of the loop")
    parser.add_argument("--no-orjson", action="store_true", help="quote as without the extra")
    args = parser.parse_args()
    if args.no_orjson:
        sys.modules["orjson"] = None  # type: ignore[assignment]  # its import now fails
    quoting = "standard library" if args.no_orjson or find_spec("orjson") is None else "orjson"
    print(f"{load()}; long values quoted by {quoting}")
    with tempfile.TemporaryDirectory() as tmp:
        expected, stored = ratios(Path(tmp) / "ratios", args.calls, args.rounds)
        print(f"file store: {stored}/{expected} spans in store")
        if args.loop:
            tight_loop(Path(tmp) / "loop", args.loop)
    otelfeedback.reset()


if __name__ == "__main__":
    main()
