"""Server benchmark (issue 5): OTLP ingestion throughput and page times.

    .venv/bin/python bench/server.py                    # 100,000 traces in the store
    .venv/bin/python bench/server.py --traces 10000     # a quick run

1. Ingestion: a fresh store, the server in its own process (``otelfeedback server``), and
   ``--exporters`` concurrent exporter processes each posting protobuf
   ``ExportTraceServiceRequest`` batches of 512 spans (the OTel SDK's default batch) over
   keep-alive connections. Prints spans/s, end to end (everything acknowledged is on disk).
2. Pages: a store of ``--traces`` traces (``bench/store.py``'s generator: 5 spans each, 20%
   with thumbs feedback), served by a fresh server; the first request (which builds the
   index) is timed apart, then p50/p95 of the traces page (plain, filtered by feedback,
   sorted by latency, a later page, searched for a common word, a rare one and two
   non-ASCII characters; each with its summary strip), its JSON twin and the trace page
   (alone and opened from a sorted list, which finds its previous / next), measured as
   request latency over loopback. ``--pages-only`` skips part 1.
3. Pages under full ingestion: the same pages again while ``--exporters`` processes post
   fresh batches as fast as the server takes them; prints the ingestion rate meanwhile,
   the page times, and how far the index lagged (bytes not yet searchable) and how long it
   took to catch up once ingestion stopped.

Targets: >= 10,000 spans/s ingested; p95 page time <= 300 ms, also under full ingestion.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import run_exporters, start_server, stop

import store as store_bench  # bench/store.py: the trace generator

BATCH = 512


def make_batch(rng: random.Random) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "bench-exporter"
    ss = rs.scope_spans.add()
    ss.scope.name = "otelfeedback"
    t0 = time.time_ns()
    for i in range(BATCH):
        if i % 4 == 0:
            trace_id, root = rng.randbytes(16), rng.randbytes(8)
        span = ss.spans.add()
        span.trace_id = trace_id
        span.span_id = root if i % 4 == 0 else rng.randbytes(8)
        if i % 4:
            span.parent_span_id = root
        span.name = ("chat", "retrieve", "llm", "tool")[i % 4]
        span.kind = 1
        span.start_time_unix_nano = t0 + i * 1000
        span.end_time_unix_nano = t0 + i * 1000 + 2_000_000
        for key, value in (
            ("openinference.span.kind", ("CHAIN", "RETRIEVER", "LLM", "TOOL")[i % 4]),
            ("input.value", "How do I reset my password? " * 4),
            ("output.value", "Open Settings, then Security, then Reset password. " * 3),
            ("gen_ai.request.model", "gpt-4o-mini"),
        ):
            attr = span.attributes.add()
            attr.key, attr.value.string_value = key, value
        attr = span.attributes.add()
        attr.key, attr.value.int_value = "gen_ai.usage.input_tokens", 120
    return bytes(request.SerializeToString())


def _exporter(url: str, batches: int, seed: int, queue: Any) -> None:
    rng = random.Random(seed)
    bodies = [make_batch(rng) for _ in range(batches)]
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    queue.put("ready")
    for body in bodies:
        conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"export failed: {response.status}")
    conn.close()
    queue.put("done")


def bench_ingestion(exporters: int, batches: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(str(Path(tmp) / "store"))
        try:
            elapsed = run_exporters(_exporter, [(url, batches, n) for n in range(exporters)])
            health = json.loads(urllib.request.urlopen(url + "/api/health").read())
        finally:
            stop(process)
    spans = exporters * batches * BATCH
    assert health["ingested"]["spans"] == spans, health
    return spans / elapsed


def timed_get(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
        assert response.status == 200
    return (time.perf_counter() - start) * 1000


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _flood(url: str, seed: int, stop_flag: Any, counter: Any) -> None:
    """Post fresh batches (new ids each time) as fast as the server answers, until told."""
    rng = random.Random(seed)
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    while not stop_flag.is_set():
        body = make_batch(rng)
        conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"export failed: {response.status}")
        with counter.get_lock():
            counter.value += BATCH
    conn.close()


def health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/api/health", timeout=120) as response:
        return dict(json.loads(response.read()))


def measure(pages: dict[str, Any], rounds: int) -> None:
    for name, make_url in pages.items():
        samples = [timed_get(make_url()) for _ in range(rounds)]
        p50, p95 = percentiles(samples)
        flag = "ok" if p95 <= 300 else "SLOW"
        print(f"  {name:<32} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   [{flag}]")


def bench_pages(traces: int, rounds: int, exporters: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        started = time.perf_counter()
        spans, ids = store_bench.generate(store, traces)
        print(
            f"  generated {traces:,} traces / {spans:,} spans in "
            f"{time.perf_counter() - started:.1f} s"
        )
        process, url = start_server(str(store))
        try:
            started = time.perf_counter()
            first = timed_get(url + "/traces")
            while not health(url)["index"]["up_to_date"]:
                time.sleep(0.2)
            built = time.perf_counter() - started
            print(
                f"  index built in the background in {built:.1f} s; "
                f"the first page meanwhile: {first:.0f} ms"
            )
            rng = random.Random(3)
            feedback = urllib.parse.quote("feedback.user_feedback = 'false'")
            rare = urllib.parse.quote(f"#{traces // 3}")  # one question (and its prefixes)
            listed = urllib.parse.quote("i=5&list=" + urllib.parse.quote("sort=latency"))
            # every traces page includes the summary strip (count, p50/p95, error rate,
            # thumbs-down share and their per-slice charts) over the whole selection
            pages = {
                "traces page": lambda: url + "/traces",
                "traces page, feedback filter": lambda: url + f"/traces?filter={feedback}",
                "traces page, sorted by latency": lambda: url + "/traces?sort=latency",
                "traces page, page 20": lambda: url + "/traces?page=20",
                "traces page, JSON twin": lambda: url + "/traces?format=json",
                "traces page, common word": lambda: url + "/traces?q=refund",
                "traces page, rare word": lambda: url + f"/traces?q={rare}",
                "traces page, 2 non-ASCII chars": lambda: url + "/traces?q=%E6%9D%B1%E4%BA%AC",
                "trace page": lambda: url + f"/traces/{rng.choice(ids)}",
                "trace page, from the list": lambda: (
                    url + f"/traces/{rng.choice(ids)}?{urllib.parse.unquote(listed)}"
                ),
            }
            measure(pages, rounds)
            print(f"pages while {exporters} exporters post as fast as the server takes them:")
            stop_flag = multiprocessing.Event()
            counter: Any = multiprocessing.Value("q", 0)
            workers = [
                multiprocessing.Process(target=_flood, args=(url, 100 + n, stop_flag, counter))
                for n in range(exporters)
            ]
            for w in workers:
                w.start()
            time.sleep(2.0)  # reach full speed before measuring
            before, started = counter.value, time.perf_counter()
            measure(pages, rounds)
            posted, elapsed = counter.value - before, time.perf_counter() - started
            lag = health(url)["index"]["pending_bytes"]
            stop_flag.set()
            for w in workers:
                w.join(60)
            stopped = time.perf_counter()
            while not health(url)["index"]["up_to_date"]:
                time.sleep(0.2)
            caught_up = time.perf_counter() - stopped
            print(
                f"  ingestion meanwhile: {posted / elapsed:,.0f} spans/s; index lag at the end "
                f"{lag / 1e6:.1f} MB, caught up {caught_up:.1f} s after ingestion stopped"
            )
        finally:
            stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--exporters", type=int, default=4)
    parser.add_argument("--batches", type=int, default=40, help="batches per exporter")
    parser.add_argument("--rounds", type=int, default=30, help="requests per page kind")
    parser.add_argument("--pages-only", action="store_true", help="skip the ingestion part")
    args = parser.parse_args()
    print(
        f"otelfeedback server benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} cpus)"
    )
    if not args.pages_only:
        print(f"ingestion: {args.exporters} exporters x {args.batches} batches x {BATCH} spans")
        rate = bench_ingestion(args.exporters, args.batches)
        print(f"  {rate:,.0f} spans/s   [{'ok' if rate >= 10_000 else 'SLOW'}; target >= 10,000]")
    print(f"pages with {args.traces:,} traces in the store ({args.rounds} requests each):")
    bench_pages(args.traces, args.rounds, args.exporters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
