"""The team-store half of ``bench/store.py --store postgresql://...``: the same generated
traces through ``otelfeedback server`` into PostgreSQL (and, for comparison, into a file
store), then search, ``get_trace`` and the traces page on both.

Ingestion: ``--exporters`` processes post the generated batches (500 spans each, protobuf,
as an OTel SDK or Collector sends them) over keep-alive connections to a server with
``--workers`` processes; spans/s is end to end (every acknowledged span is committed).
"""

from __future__ import annotations

import http.client
import multiprocessing
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from server_process import run_exporters, start_server, stop

ROOT = Path(__file__).resolve().parents[1]


def _bodies(lines: list[bytes]) -> list[bytes]:
    from otelfeedback.server.otlp_codec import decode_json

    return [decode_json(line).SerializeToString() for line in lines]


def _exporter(url: str, lines: list[bytes], queue: Any) -> None:
    bodies = _bodies(lines)
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    queue.put("ready")
    for body in bodies:
        while True:
            conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                break
            if response.status != 503:
                raise RuntimeError(f"export failed: {response.status}")
            time.sleep(1)  # as an OTLP exporter retries
    conn.close()
    queue.put("done")


def segment_lines(store: Path) -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted((store / "traces").glob("segment-*.jsonl")):
        with open(path, "rb") as handle:
            lines.extend(line for line in handle if line.strip())
    return lines


def ingest(url: str, lines: list[bytes], exporters: int) -> float:
    """Post every line (as protobuf) with ``exporters`` processes; returns seconds."""
    parts = [(url, lines[n::exporters]) for n in range(exporters)]
    return run_exporters(_exporter, parts, multiprocessing.get_context("spawn"))


def wait_indexed(server: str) -> None:
    """Until ``/api/health`` says the index holds everything acknowledged."""
    import json

    while True:
        with urllib.request.urlopen(server + "/api/health", timeout=120) as response:
            if json.loads(response.read())["index"]["up_to_date"]:
                return
        time.sleep(0.2)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(call: Any, rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def page_time(url: str) -> None:
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
        assert response.status == 200, url


def _pages(server: str, trace_ids: list[str], results: dict[str, str]) -> None:
    import random

    rng = random.Random(5)
    feedback = urllib.parse.quote("feedback.user_feedback = 'false'")
    urls = {
        "traces page": lambda: server + "/traces",
        "traces page, feedback filter": lambda: server + f"/traces?filter={feedback}",
        "trace page": lambda: server + f"/traces/{rng.choice(trace_ids)}",
    }
    for name, make in urls.items():
        p50, p95 = timed(lambda make=make: page_time(make()), 30)
        results[name] = f"p50 {p50:6.1f}  p95 {p95:6.1f} ms"


def _reads(store: Any, filters: dict[str, str], sample: list[str], results: dict[str, str]) -> None:
    for name, filter_string in filters.items():
        store.search_traces(filter_string, max_results=100)  # warm

        def search(f: str = filter_string) -> None:
            store.search_traces(f, max_results=100)

        p50, p95 = timed(search, 20)
        results[f"search: {name}"] = f"p50 {p50:6.1f}  p95 {p95:6.1f} ms"
    it = iter(sample * 2)
    p50, p95 = timed(lambda: store.get_trace(next(it)), len(sample))
    results["get_trace"] = f"p50 {p50:6.2f}  p95 {p95:6.2f} ms"


def run(
    url: str,
    full: Path,
    filters: dict[str, str],
    trace_ids: list[str],
    spans: int,
    exporters: int,
    workers: int,
) -> None:
    """Everything measured on both stores, printed side by side."""
    import random

    from otelfeedback.store import FileStore
    from otelfeedback.store.sql import SqlStore

    lines = segment_lines(full)
    results: dict[str, dict[str, str]] = {"file store": {}, "postgresql": {}}
    print(f"team store: {spans:,} spans through otelfeedback server ({exporters} exporters)")
    with SqlStore(url) as database:
        database.migrate()
    file_dir = full.parent / "through-server"
    for label, store in (("file store", str(file_dir)), ("postgresql", url)):
        process, server = start_server(store, workers)
        try:
            seconds = ingest(server, lines, exporters)
            results[label]["ingest (acknowledged)"] = f"{spans / seconds:,.0f} spans/s"
            started = time.perf_counter()
            wait_indexed(server)
            indexed = seconds + time.perf_counter() - started
            results[label]["ingest + indexed"] = f"{spans / indexed:,.0f} spans/s"
            print(
                f"  {label} ({workers} workers): acknowledged {spans / seconds:,.0f} spans/s, "
                f"indexed end to end {spans / indexed:,.0f} spans/s",
                flush=True,
            )
            _pages(server, trace_ids, results[label])
        finally:
            stop(process)
    with SqlStore(url) as database:
        size = database._pool.run(
            lambda conn: conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        )
    results["postgresql"]["size"] = f"{size / 1e6:,.0f} MB ({size / spans:,.0f} B/span)"
    index = (file_dir / "index.sqlite").stat().st_size
    segments = sum(p.stat().st_size for p in (file_dir / "traces").glob("*.jsonl"))
    results["file store"]["size"] = (
        f"{(index + segments) / 1e6:,.0f} MB ({(index + segments) / spans:,.0f} B/span)"
    )
    sample = random.Random(1).sample(trace_ids, min(500, len(trace_ids)))
    for label, opened in (("file store", FileStore(file_dir)), ("postgresql", SqlStore(url))):
        _reads(opened, filters, sample, results[label])
        opened.close()
    print(f"\n  {'':36s} {'file store':>30s}   {'postgresql':>30s}")
    for key, value in results["postgresql"].items():
        print(f"  {key:36s} {results['file store'].get(key, '-'):>30s}   {value:>30s}")
    print(
        "  targets (postgresql): ingestion >= 20,000 spans/s with 2 workers; search p95 "
        "<= 100 ms; get_trace p95 <= 10 ms; traces page p95 <= 300 ms"
    )


def temporary_postgres() -> Any:
    """A throwaway cluster (the tests' helper), for ``--store postgres-temp``."""
    sys.path.insert(0, str(ROOT))
    from tests.postgres import start_cluster

    return start_cluster()
