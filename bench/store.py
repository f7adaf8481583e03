"""Store benchmark (issues 4, 15): indexing, search, get_trace and log_feedback on the file
store; with ``--store``, the same traces through the server into PostgreSQL beside the file
store (``bench/team_store.py``).

    .venv/bin/python bench/store.py                   # 100,000 traces (~500,000 spans)
    .venv/bin/python bench/store.py --traces 10000    # a quick run
    .venv/bin/python bench/store.py --store postgresql://user@host/empty_db
    .venv/bin/python bench/store.py --store postgres-temp   # a throwaway local cluster

Generates traces (a CHAIN root with RETRIEVER, LLM, TOOL and PARSER children; 20% with a
thumbs feedback carried exactly as ``log_feedback`` writes it) as OTLP/JSON lines, then prints
indexing throughput and peak memory, search latency for five typical filters (and, without a
target, four harder ones), ``get_trace`` and ``log_feedback`` latency. Targets: indexing
>= 20,000 spans/s with memory that does not grow with the store; p95 first-page search
<= 100 ms; get_trace <= 10 ms; log_feedback <= 1 ms.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from otelfeedback._internal.otlp_json.encode import key_values
from otelfeedback.assessments.wire import (
    AssessmentRecord,
    annotation_attributes,
    evaluation_event_attributes,
    record_attributes,
)

T0 = 1_760_000_000_000_000_000
WORDS = (
    "refund",
    "shipping",
    "invoice",
    "password",
    "login",
    "order",
    "delivery",
    "warranty",
    "account",
    "billing",
    "upgrade",
    "cancel",
    "discount",
    "coupon",
    "address",
    "payment",
    "tracking",
    "return",
    "exchange",
    "support",
)
SEGMENT_BYTES = 64 * 1024 * 1024


def _span(
    trace_id: str,
    span_id: str,
    parent: str | None,
    name: str,
    start: int,
    dur_ms: float,
    attrs: dict[str, Any],
    events: list[Any] | None = None,
    links: list[Any] | None = None,
) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + int(dur_ms * 1e6)),
        "attributes": key_values(attrs),
        "status": {},
    }
    if parent:
        span["parentSpanId"] = parent
    if events:
        span["events"] = events
    if links:
        span["links"] = links
    return span


def _io(kind: str, inputs: str, outputs: str) -> dict[str, Any]:
    return {
        "openinference.span.kind": kind,
        "otelfeedback.span_type": kind,
        "input.value": inputs,
        "input.mime_type": "text/plain",
        "output.value": outputs,
        "output.mime_type": "text/plain",
    }


def make_trace(i: int, rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    trace_id = f"{rng.getrandbits(128):032x}"
    ids = [f"{rng.getrandbits(64) | 1:016x}" for _ in range(5)]
    start = T0 + i * 1_000_000_000  # one trace per second
    question = " ".join(rng.choices(WORDS, k=8)) + f" #{i}"
    answer = " ".join(rng.choices(WORDS, k=30))
    duration = rng.uniform(100, 3000)
    root_attrs = _io("CHAIN", question, answer)
    root_attrs["session.id"] = f"s{i % 5000}"
    root_attrs["metadata"] = json.dumps({"tier": rng.choice(["free", "gold"]), "region": "eu"})
    root_attrs["otelfeedback.trace.tags"] = json.dumps({"env": rng.choice(["prod", "dev"])})
    llm = _io("LLM", question, answer)
    llm.update(
        {
            "gen_ai.request.model": rng.choice(["gpt-4o-mini", "gpt-4o"]),
            "gen_ai.usage.input_tokens": rng.randint(50, 500),
            "gen_ai.usage.output_tokens": rng.randint(10, 200),
        }
    )
    spans = [
        _span(trace_id, ids[0], None, "chat", start, duration, root_attrs),
        _span(
            trace_id,
            ids[1],
            ids[0],
            "retrieve",
            start + 1000,
            duration * 0.2,
            _io("RETRIEVER", question, json.dumps(rng.choices(WORDS, k=5))),
        ),
        _span(trace_id, ids[2], ids[0], "llm", start + 2000, duration * 0.6, llm),
        _span(
            trace_id,
            ids[3],
            ids[0],
            "lookup_order",
            start + 3000,
            duration * 0.1,
            _io("TOOL", f"order {i}", "shipped"),
        ),
        _span(trace_id, ids[4], ids[0], "parse", start + 4000, 1, _io("PARSER", answer, "ok")),
    ]
    carrier = None
    if rng.random() < 0.2:
        record = AssessmentRecord(
            "create",
            {
                "assessment_id": f"a-{rng.getrandbits(128):032x}",
                "trace_id": trace_id,
                "name": "user_feedback",
                "kind": "feedback",
                "value": rng.random() < 0.7,
                "rationale": None,
                "source_type": "HUMAN",
                "source_id": f"user{i}",
                "metadata": {},
                "error": None,
                "create_time_ms": start // 1_000_000 + 60_000,
                "last_update_time_ms": start // 1_000_000 + 60_000,
                "overrides": None,
            },
            start + 60_000_000_000,
        )
        attrs = {
            "openinference.span.kind": "EVALUATOR",
            "otelfeedback.span_type": "EVALUATOR",
            **annotation_attributes(record),
            **record_attributes(record),
        }
        event = {
            "timeUnixNano": str(record.time_ns),
            "name": "gen_ai.evaluation.result",
            "attributes": key_values(evaluation_event_attributes(record) or {}),
        }
        carrier = _span(
            trace_id,
            f"{rng.getrandbits(64) | 1:016x}",
            ids[0],
            "otelfeedback.assessment",
            record.time_ns,
            0,
            attrs,
            [event],
            [{"traceId": trace_id, "spanId": ids[0]}],
        )
    return spans, carrier


def generate(store: Path, traces: int, seed: int = 7) -> tuple[int, list[str]]:
    """Write the store; returns the number of spans and the trace ids."""
    rng = random.Random(seed)
    traces_dir = store / "traces"
    traces_dir.mkdir(parents=True, exist_ok=True)
    segment, written, total = 1, 0, 0
    out = open(traces_dir / f"segment-{segment:06d}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
    ids: list[str] = []
    batch: list[dict[str, Any]] = []
    carriers: list[dict[str, Any]] = []

    def flush(spans: list[dict[str, Any]]) -> None:
        nonlocal written, segment, out
        if not spans:
            return
        text = (
            json.dumps(
                {
                    "resourceSpans": [
                        {
                            "resource": {"attributes": key_values({"service.name": "bench-app"})},
                            "scopeSpans": [
                                {"scope": {"name": "otelfeedback", "version": "0"}, "spans": spans}
                            ],
                        }
                    ]
                },
                separators=(",", ":"),
            )
            + "\n"
        )
        out.write(text)
        written += len(text)
        if written > SEGMENT_BYTES:
            out.close()
            segment, written = segment + 1, 0
            out = open(traces_dir / f"segment-{segment:06d}.jsonl", "w", encoding="utf-8")  # noqa: SIM115

    for i in range(traces):
        spans, carrier = make_trace(i, rng)
        ids.append(spans[0]["traceId"])
        batch.extend(spans)
        total += len(spans)
        if carrier:
            carriers.append(carrier)
        if len(batch) >= 500:  # an export batch
            flush(batch)
            batch = []
        if len(carriers) >= 100:  # feedback arrives later, in its own batches
            flush(carriers)
            carriers = []
    flush(batch)
    flush(carriers)
    out.close()
    return total, ids


def _index_child(store: str, queue: Any) -> None:
    from otelfeedback.store import FileStore

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    stats = FileStore(store).update_index()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((stats.spans, stats.records, seconds, before, peak))


def index_in_child(store: Path) -> tuple[int, int, float, int, int]:
    """Index in a fresh process, so its peak RSS is the indexer's alone."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_index_child, args=(str(store), queue))
    process.start()
    result = queue.get()
    process.join()
    return result  # type: ignore[no-any-return]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered), p95


def search_line(store: Any, label: str, filter_string: str) -> None:
    samples = []
    for _ in range(20):
        t = time.perf_counter()
        page = store.search_traces(filter_string, max_results=100)
        samples.append((time.perf_counter() - t) * 1000)
    p50, p95 = percentiles(samples)
    print(
        f"  {label:18s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({len(page)} results)  "
        f"{filter_string}"
    )


def main() -> int:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--dir", help="work directory (default: a temporary one)")
    parser.add_argument(
        "--store",
        help="also the team store: an empty PostgreSQL database's URL, or 'postgres-temp'",
    )
    parser.add_argument("--exporters", type=int, default=4, help="exporter processes (4)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (2)")
    args = parser.parse_args()
    root = Path(args.dir or tempfile.mkdtemp(prefix="otelfeedback-bench-"))
    print(f"store benchmark: {args.traces:,} traces in {root}")

    small = root / "small"
    full = root / "full"
    started = time.perf_counter()
    generate(small, max(1, args.traces // 10))
    span_count, trace_ids = generate(full, args.traces)
    size = sum(p.stat().st_size for p in (full / "traces").iterdir())
    print(
        f"generated {span_count:,} spans ({size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - started:.1f} s"
    )

    s_spans, _, _, _s_before, s_peak = index_in_child(small)
    spans, records, seconds, before, peak = index_in_child(full)
    print(
        f"indexing: {spans:,} spans + {records:,} assessment records in {seconds:.1f} s = "
        f"{spans / seconds:,.0f} spans/s   (target >= 20,000)"
    )
    print(
        f"indexer peak RSS: {peak / 1024:.0f} MB for {spans:,} spans, "
        f"{s_peak / 1024:.0f} MB for {s_spans:,} spans (process baseline "
        f"{before / 1024:.0f} MB)   (target: flat)"
    )
    index_size = (full / "index.sqlite").stat().st_size
    print(f"index size: {index_size / 1e6:.0f} MB")

    from otelfeedback.store import FileStore

    store = FileStore(full)
    store.update_index()
    middle = T0 // 1_000_000 + (args.traces // 2) * 1000
    filters = {
        "by feedback value": "feedback.user_feedback = false",
        "by span type": "span.type = 'TOOL'",
        "by time range": (
            f"trace.timestamp_ms >= {middle} AND trace.timestamp_ms < {middle + 3_600_000}"
        ),
        "full text": "trace.text LIKE '%warranty coupon%'",
        "combined": f"feedback.user_feedback = false AND span.type = 'RETRIEVER' AND "
        f"trace.execution_time_ms > 1500 AND trace.timestamp_ms < {middle}",
    }
    # Harder cases, for the record: the plans that do not stop after a page.
    others = {
        "rare text": "trace.text LIKE '%#4242%'",
        "common words, rare": "trace.text LIKE '%refund shipping invoice%'",
        "rare span name": "span.name = 'nope'",
        "rare tag": "tags.env = 'nope'",
    }
    print(
        "search_traces, first page (100 traces with spans), 20 runs each   (p95 target <= 100 ms)"
    )
    for label, filter_string in filters.items():
        search_line(store, label, filter_string)
    print("other filters (no target)")
    for label, filter_string in others.items():
        search_line(store, label, filter_string)

    rng = random.Random(1)
    samples = []
    for trace_id in rng.sample(trace_ids, min(500, len(trace_ids))):
        t = time.perf_counter()
        store.get_trace(trace_id)
        samples.append((time.perf_counter() - t) * 1000)
    p50, p95 = percentiles(samples)
    print(f"get_trace: p50 {p50:.2f} ms  p95 {p95:.2f} ms   (target <= 10 ms)")
    store.close()

    import otelfeedback
    from otelfeedback import log_feedback

    otelfeedback.configure(store=full, otlp_endpoint="")
    targets = rng.sample(trace_ids, min(1000, len(trace_ids)))
    log_feedback(targets[0], "warmup", True)
    samples = []
    for trace_id in targets:
        t = time.perf_counter()
        log_feedback(trace_id, "bench_score", rng.random())
        samples.append((time.perf_counter() - t) * 1000)
    p50, p95 = percentiles(samples)
    print(
        f"log_feedback (trace-level, root looked up in the store): p50 {p50:.3f} ms  "
        f"p95 {p95:.3f} ms   (target <= 1 ms)"
    )
    otelfeedback.reset()
    if args.store:
        import team_store

        cluster = None
        url = args.store
        if url == "postgres-temp":
            cluster = team_store.temporary_postgres()
            cluster.create_database("bench")
            url = cluster.url("bench")
        try:
            team_store.run(url, full, filters, trace_ids, span_count, args.exporters, args.workers)
        finally:
            if cluster is not None:
                cluster.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
