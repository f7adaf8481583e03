"""Per-call overhead of OpenAI instrumentation: a chat completion, plain and streamed (50
chunks), against FakeOpenAIServer on loopback, uninstrumented vs each attribute profile
(``lean``, the default, and ``full``), and bare OpenTelemetry spans (no attributes) per call:
``sdk``, a span of the OpenTelemetry SDK alone (a provider with no span processor: none of
our code), ``otel``, a span through our pipeline (the floor of any span-per-call
instrumentation with it), ``otel2``, that span and a second one right after it (what a
span costs when the SDK's code has just run), and ``stock``, the floor of recording the
lean span's attributes with OpenTelemetry alone: a span from a stock SDK provider (the
SDK's ``BatchSpanProcessor`` to a counting exporter) started with the five attributes a
sampler may read and given the other seventeen by ``set_attributes`` before it ends, their
values taken from a recorded lean span (nothing of ours runs, and nothing is built),
interleaved in one run. ``--sides`` can add ``lean-nocontent``: the lean profile with
content capture off (no messages, no ``input.value`` / ``output.value``), what recording the
content costs.

The server runs in a child process, so the client process's CPU time is the client's own.
The sides take turns in blocks of calls, in an order that rotates each cycle: ``off`` (the
SDK's own methods restored) and ``instrument_openai(attributes=...)`` for each profile, so
the machine's drift (other processes on a shared machine) hits all sides alike.
Spans go through the real pipeline (our batch processor) to a counting exporter.

Columns (µs per call): ``wall``; ``thread``, the calling thread's CPU; ``+thread``, the
median over the cycles of a block's thread CPU minus the ``off`` block of the same cycle;
of it ``in SDK``, the extra CPU spent inside the SDK's own ``request`` method (the HTTP
exchange and parsing: the same code on every side, slower when ours runs beside it), and
``ours``, the rest (our wrapper and recording); ``+export``, the export worker's CPU (the
process's CPU outside the calling thread, each block's spans exported at its end);
``+cpu`` = ``+thread`` + ``+export``; ``gc``, the time in the garbage collector and its
collections per generation; ``spans`` exported per call and ``attrs`` per span.

Target: at most 150 µs added CPU per plain chat call.

    python bench/openai_overhead.py [--block 20] [--cycles 60]
        [--sides off,sdk,otel,otel2,stock,lean,full]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

CHUNKS = [f"w{i} " for i in range(48)]  # + the role chunk and the finish chunk = 50
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant. Answer in one sentence."},
    {"role": "user", "content": "What is OpenTelemetry, and why would I trace my LLM app?"},
]
ANSWER = "OpenTelemetry is a vendor-neutral standard for traces and metrics."
TARGET_US = 150.0
#: The attributes of a lean span of the call being measured (``stock`` records them).
STOCK: dict[str, Any] = {}


def serve() -> None:
    """Child process: run the fake server until stdin closes."""
    from otelfeedback.testing import FakeOpenAIServer, RecordedRequest, Reply

    def answer(request: RecordedRequest) -> Reply:
        if request.body.get("stream"):
            return Reply(chunks=CHUNKS)
        return Reply(ANSWER)

    with FakeOpenAIServer(default=answer) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


class CountingExporter(SpanExporter):
    """Counts spans and their attributes, and drops them."""

    def __init__(self) -> None:
        self.spans = 0
        self.attributes = 0
        self.last: dict[str, Any] = {}  # the attributes of the last span

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        self.attributes += sum(len(s.attributes or ()) for s in spans)
        if spans:
            self.last = dict(spans[-1].attributes or {})
        return SpanExportResult.SUCCESS


class GCWatch:
    """Collections per generation and the time spent in them (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def snapshot(self) -> tuple[int, int, int, float]:
        return (*self.collections, self.seconds)  # type: ignore[return-value]


class SDKTimer:
    """CPU time of the calling thread inside the SDK's own ``SyncAPIClient.request`` (the
    HTTP exchange and parsing), installed under our wrapper so every side pays it alike.

    For the ``otel`` side it also wraps each request in a bare OpenTelemetry span (no
    attributes, current during the request, through the same pipeline): what any
    span-per-call instrumentation costs here before it records anything. ``sdk`` is the
    same span from a provider with no span processor at all (the OpenTelemetry SDK alone,
    none of our code), and ``otel2`` adds a second bare span right after the first (what a
    span costs once the SDK's code has just run: the first span's extra is cold code).
    ``stock`` starts the span with ``head`` and sets ``rest`` before it ends."""

    def __init__(self) -> None:
        from openai._base_client import SyncAPIClient
        from opentelemetry import context, trace

        self.ns = 0
        self.tracer: trace.Tracer | None = None
        self.second = False
        self.head: dict[str, Any] | None = None
        self.rest: dict[str, Any] | None = None
        original = SyncAPIClient.__dict__["request"]
        timer = self

        def request(self: Any, *args: Any, **kwargs: Any) -> Any:
            span = None
            if timer.tracer is not None:
                span = timer.tracer.start_span(
                    "chat", kind=trace.SpanKind.CLIENT, attributes=timer.head
                )
                token = context.attach(trace.set_span_in_context(span))
                if timer.second:
                    timer.tracer.start_span("second", kind=trace.SpanKind.CLIENT).end()
            start = time.thread_time_ns()
            try:
                return original(self, *args, **kwargs)
            finally:
                timer.ns += time.thread_time_ns() - start
                if span is not None:
                    context.detach(token)
                    if timer.rest:
                        span.set_attributes(timer.rest)
                    span.end()

        SyncAPIClient.request = request  # type: ignore[method-assign]


@dataclass
class Side:
    """What one side accumulated over its blocks of calls."""

    name: str
    thread_blocks: list[float] = field(default_factory=list)  # µs per call, per block
    wall_blocks: list[float] = field(default_factory=list)
    calls: int = 0
    worker_ns: int = 0
    sdk_ns: int = 0
    spans: int = 0
    attributes: int = 0
    gc: list[float] = field(default_factory=lambda: [0, 0, 0, 0.0])


def block(
    side: Side,
    fn: Callable[[], Any],
    calls: int,
    watch: GCWatch,
    sdk: SDKTimer,
    exporter: CountingExporter,
    flush: Callable[[], Any],
) -> None:
    """Run ``calls`` calls of ``fn``, then export their spans (``flush``), and add what it
    cost to ``side``: the calling thread's CPU during the calls, and the CPU of the rest of
    the process (the export workers) until the export is done."""
    g0, n0, s0, a0 = watch.snapshot(), sdk.ns, exporter.spans, exporter.attributes
    cpu, wall, thread = time.process_time_ns(), time.perf_counter_ns(), time.thread_time_ns()
    for _ in range(calls):
        fn()
    calls_thread = time.thread_time_ns() - thread
    wall = time.perf_counter_ns() - wall
    flush()
    worker = (time.process_time_ns() - cpu) - (time.thread_time_ns() - thread)
    g1 = watch.snapshot()
    side.thread_blocks.append(calls_thread / calls / 1e3)
    side.wall_blocks.append(wall / calls / 1e3)
    side.calls += calls
    side.worker_ns += worker
    side.sdk_ns += sdk.ns - n0
    side.spans += exporter.spans - s0
    side.attributes += exporter.attributes - a0
    for i in range(4):
        side.gc[i] += g1[i] - g0[i]


#: Sides that are not an attribute profile of ours.
BARE_SIDES = ("off", "sdk", "otel", "otel2", "stock")
#: The attributes the GenAI conventions list for sampling: ``stock`` starts its span with them.
SAMPLER_KEYS = (
    "gen_ai.provider.name",
    "gen_ai.operation.name",
    "server.address",
    "server.port",
    "gen_ai.request.model",
)


@dataclass
class Tracers:
    """``ours`` (through our pipeline), ``alone`` (the SDK with no span processor) and
    ``stock`` (the SDK with its own batch processor)."""

    ours: Any
    alone: Any
    stock: Any


def enter(side: str, sdk: SDKTimer, tracers: Tracers) -> None:
    """Put the client in the state of ``side``: ``off``, ``sdk`` (a bare span of the SDK
    alone), ``otel`` (a bare span through our pipeline), ``otel2`` (and a second one),
    ``stock`` (the lean span's attributes, already built, on a stock SDK span), an attribute
    profile of ours, or ``lean-nocontent`` (``lean`` with ``capture_content=False``: what
    recording the content costs)."""
    import otelfeedback

    otelfeedback.uninstrument_openai()
    sdk.tracer = {
        "sdk": tracers.alone,
        "otel": tracers.ours,
        "otel2": tracers.ours,
        "stock": tracers.stock,
    }.get(side)
    sdk.second = side == "otel2"
    sdk.head = sdk.rest = None
    if side == "stock":
        sdk.head = {k: v for k, v in STOCK.items() if k in SAMPLER_KEYS}
        sdk.rest = {k: v for k, v in STOCK.items() if k not in SAMPLER_KEYS}
    if side == "lean-nocontent":
        otelfeedback.instrument_openai(attributes="lean", capture_content=False)
    elif side not in BARE_SIDES:
        otelfeedback.instrument_openai(attributes=side)


def compare(
    name: str,
    fn: Callable[[], Any],
    sides: list[str],
    args: argparse.Namespace,
    exporter: CountingExporter,
    watch: GCWatch,
    sdk: SDKTimer,
    tracers: Tracers,
    flush: Callable[[], Any],
) -> dict[str, float]:
    """Print what each side costs; return the added CPU per call of each traced side.

    Sides take turns in blocks of ``--block`` calls (the order rotates each cycle), so
    the machine's drift hits all alike; a side's added thread CPU is the median, over the
    cycles, of its block minus the ``off`` block of the same cycle. The export worker's
    CPU (the process's CPU outside the calling thread) is charged per exported span."""
    enter("lean", sdk, tracers)  # the attributes ``stock`` records: a lean span's
    fn()
    flush()
    STOCK.clear()
    STOCK.update(exporter.last)
    for side in sides:  # warm up every side
        enter(side, sdk, tracers)
        for _ in range(args.block):
            fn()
    results = {s: Side(s) for s in sides}
    flush()
    for cycle in range(args.cycles):
        order = sides[cycle % len(sides) :] + sides[: cycle % len(sides)]
        for side in order:
            enter(side, sdk, tracers)
            block(results[side], fn, args.block, watch, sdk, exporter, flush)
    enter("off", sdk, tracers)
    off = results["off"]
    off_sdk = off.sdk_ns / off.calls / 1e3
    width = max(6, *(len(side) + 1 for side in sides))
    print(f"\n{name}: {args.cycles} cycles of {args.block} calls per side; µs per call")
    print(
        f"{'side':<{width}}{'wall':>7}{'thread':>8}{'+thread':>9}{'(in SDK':>9}{'ours)':>7}"
        f"{'+export':>9}{'= +cpu':>8}{'gc':>6}{'gc0/1/2 per 1k calls':>22}"
        f"{'spans':>7}{'attrs':>7}"
    )
    added: dict[str, float] = {}
    for side in sides:
        r = results[side]
        paired = [t - o for t, o in zip(r.thread_blocks, off.thread_blocks, strict=True)]
        plus_thread = statistics.median(paired)
        plus_sdk = r.sdk_ns / r.calls / 1e3 - off_sdk
        worker = (r.worker_ns - off.worker_ns) / r.calls / 1e3
        gcs = "/".join(f"{r.gc[g] * 1000 / r.calls:.0f}" for g in range(3))
        print(
            f"{side:<{width}}{statistics.median(r.wall_blocks):>7.0f}"
            f"{statistics.median(r.thread_blocks):>8.0f}{plus_thread:>+9.0f}"
            f"{plus_sdk:>+9.0f}{plus_thread - plus_sdk:>+7.0f}{worker:>+9.0f}"
            f"{plus_thread + worker:>+8.0f}{r.gc[3] * 1e6 / r.calls:>6.1f}{gcs:>22}"
            f"{r.spans / r.calls:>7.2f}{r.attributes / max(r.spans, 1):>7.1f}"
        )
        if side != "off":
            added[side] = plus_thread + worker
    return added


@dataclass
class Session:
    """The fake server (in a child process) and a client of it; the exporter, tracers and
    timer the sides use, and ``flush`` (our pipeline and the stock one)."""

    client: Any
    exporter: CountingExporter
    tracers: Tracers
    sdk: SDKTimer
    flush: Callable[[], None]
    server_pid: int

    def plain(self) -> None:
        """One plain chat call."""
        self.client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


@contextmanager
def session() -> Iterator[Session]:
    """Start the fake server, configure our pipeline and the stock one, and open a client;
    close them all at the end."""
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
    ours = otelfeedback.configure(store="", exporters=[exporter]).tracer_provider
    stock = TracerProvider()
    stock.add_span_processor(BatchSpanProcessor(exporter))
    tracers = Tracers(
        ours=ours.get_tracer("bench"),
        alone=TracerProvider().get_tracer("bench"),  # no span processor: the SDK alone
        stock=stock.get_tracer("bench"),
    )

    def flush() -> None:
        otelfeedback.flush()
        stock.force_flush()

    client = OpenAI(base_url=base_url, api_key="bench", max_retries=0)
    try:
        yield Session(client, exporter, tracers, SDKTimer(), flush, child.pid)
    finally:
        client.close()
        child.stdin.close()
        child.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--block", type=int, default=20, help="calls per block")
    parser.add_argument("--cycles", type=int, default=60, help="blocks per side")
    parser.add_argument("--sides", default="off,sdk,otel,otel2,stock,lean,full", help="off first")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    sides = args.sides.split(",")
    watch = GCWatch()
    gc.callbacks.append(watch)
    with session() as bench:

        def streamed() -> None:
            stream = bench.client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            n = sum(1 for _ in stream)
            assert n == 51, n  # 50 content chunks + the usage chunk

        load = "load average before: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"{load}; fake server in a child process (pid {bench.server_pid}), its CPU not counted"
        )
        added = {
            name: compare(
                name, fn, sides, args, bench.exporter, watch, bench.sdk, bench.tracers, bench.flush
            )
            for name, fn in (("chat", bench.plain), ("chat, 50 chunks", streamed))
        }
        print()
        for name, per_side in added.items():
            for side, us in per_side.items():
                verdict = ""
                if name == "chat" and side not in BARE_SIDES:
                    verdict = "  OK" if us <= TARGET_US else f"  over the {TARGET_US:.0f} µs target"
                print(f"added cpu per call, {name}, {side}: {us:+.0f} µs{verdict}")
            floor = per_side.get("stock")
            for side, us in per_side.items():
                if floor is not None and floor > 0 and side not in BARE_SIDES:
                    print(
                        f"  {side} over the stock floor ({floor:+.0f} µs, the same run): "
                        f"{us - floor:+.0f} µs, {us / floor:.2f}×"
                    )
        print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
