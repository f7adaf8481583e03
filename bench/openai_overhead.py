"""Per-call overhead of OpenAI instrumentation: a chat completion, plain and streamed (50
chunks), against FakeOpenAIServer on loopback, instrumented vs uninstrumented in one run.

The server runs in a child process so the client process's CPU time is the client's own.
Rounds alternate between instrumented (``instrument_openai()``) and uninstrumented
(``uninstrument_openai()``, the SDK's own methods restored), so drift hits both sides alike.
Spans go through the real pipeline (our batch processor) to a discarding exporter.

Targets: added time <= 5% of a loopback round trip, and < 150 µs a call.

    python bench/openai_overhead.py [--calls 400] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

CHUNKS = [f"w{i} " for i in range(48)]  # + the role chunk and the finish chunk = 50
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant. Answer in one sentence."},
    {"role": "user", "content": "What is OpenTelemetry, and why would I trace my LLM app?"},
]


def serve() -> None:
    """Child process: run the fake server until stdin closes."""
    from otelfeedback.testing import FakeOpenAIServer, RecordedRequest, Reply

    def answer(request: RecordedRequest) -> Reply:
        if request.body.get("stream"):
            return Reply(chunks=CHUNKS)
        return Reply("OpenTelemetry is a vendor-neutral standard for traces and metrics.")

    with FakeOpenAIServer(default=answer) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


class CountingExporter(SpanExporter):
    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


def measure(fn: Callable[[], Any], calls: int) -> tuple[float, float]:
    """(wall µs, client CPU µs) per call."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


def compare(name: str, fn: Callable[[], Any], calls: int, rounds: int) -> bool:
    """Print one call's plain and traced times; whether it meets the targets."""
    import otelfeedback

    for _ in range(2):  # warm up both sides
        otelfeedback.instrument_openai()
        measure(fn, calls // 4)
        otelfeedback.uninstrument_openai()
        measure(fn, calls // 4)
    base: list[tuple[float, float]] = []
    ours: list[tuple[float, float]] = []
    for _ in range(rounds):
        base.append(measure(fn, calls))
        otelfeedback.instrument_openai()
        ours.append(measure(fn, calls))
        otelfeedback.uninstrument_openai()
        otelfeedback.flush()
    bw = statistics.median(w for w, _ in base)
    bc = statistics.median(c for _, c in base)
    ow = statistics.median(w for w, _ in ours)
    oc = statistics.median(c for _, c in ours)
    added_wall, added_cpu = ow - bw, oc - bc
    share = added_wall / bw * 100
    ok = share <= 5.0 and added_wall < 150
    print(f"{name:<18}{'plain':<8}{bw:>10.1f}{bc:>10.1f}")
    print(
        f"{'':<18}{'traced':<8}{ow:>10.1f}{oc:>10.1f}"
        f"{added_wall:>12.1f}{added_cpu:>11.1f}{share:>9.1f}%"
    )
    print(
        f"{'':<18}ratio traced/plain {ow / bw:.3f} (wall), {oc / bc:.3f} (client cpu); "
        f"{'OK' if ok else 'OVER TARGET'}"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    from openai import OpenAI

    import otelfeedback

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    base_url = child.stdout.readline().strip()
    exporter = CountingExporter()
    otelfeedback.configure(store="", exporters=[exporter])
    client = OpenAI(base_url=base_url, api_key="bench", max_retries=0)

    def plain() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]

    def streamed() -> None:
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        n = sum(1 for _ in stream)
        assert n == 51, n  # 50 content chunks + the usage chunk

    cases = (("chat", plain), ("chat, 50 chunks", streamed))
    try:
        print(
            f"{'call':<18}{'side':<8}{'wall µs':>10}{'cpu µs':>10}"
            f"{'added wall':>12}{'added cpu':>11}{'% of RTT':>10}"
        )
        verdicts = [compare(name, fn, args.calls, args.rounds) for name, fn in cases]
        otelfeedback.flush()
        print(
            f"targets: added <= 5% of the round trip and < 150 µs a call; "
            f"{'met' if all(verdicts) else 'NOT met'}; spans exported: {exporter.count}"
        )
        if hasattr(os, "getloadavg"):  # the machine's other work skews the numbers
            print("load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        client.close()
        child.stdin.close()
        child.wait(10)


if __name__ == "__main__":
    main()
