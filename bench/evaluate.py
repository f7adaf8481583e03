"""evaluate() on 1,000 rows x 3 LLM judges against the fake judge, in a process of its own
(so its HTTP work does not share our interpreter).

1. Framework overhead per row, excluding the judge's own latency: with a judge that answers at
   once and one worker, evaluate()'s cost minus the cost of the bare openai client making the
   same 3,000 judge calls (same prompts, same structured-output request, same server), measured
   in this process, interleaved, medians of the rounds. Reported in process CPU time (every
   thread of ours: the exporter too), which a busy machine disturbs less than wall time, and
   in wall time. Target: <= 2 ms per row.
2. Wall time against the ideal: with a judge that takes LATENCY per call and WORKERS workers,
   evaluate()'s wall time over calls x latency / workers. Target: within 1.3x.

Everything real: static rows get a trace each in a file store, results are logged as feedback,
each judge call is an EVALUATOR span, the run and its rows are written to the records store.

The defaults for (2), 100 ms per judge call and 10 workers (evaluate's default), keep the
ideal wall time (30 s) above the CPU time the run needs, so the ratio measures how well the
pools overlap the calls rather than how fast one core is.

    python bench/evaluate.py [--rows 1000] [--rounds 3] [--latency 0.1] [--workers 10]
                             [--wall-rounds 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openai

import otelfeedback
from otelfeedback.scorers import Correctness, RelevanceToQuery, Safety

SERVER = """
import sys, time
from otelfeedback.testing import FakeOpenAIServer
latency = float(sys.argv[1])
def judge(request):
    if latency:
        time.sleep(latency)
    return None  # the default rule
server = FakeOpenAIServer(judge=judge).start()
print(server.base_url, flush=True)
sys.stdin.read()
server.stop()
"""


def start_judge(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def stop_judge(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(10)


def make_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "inputs": {"question": f"What is feature {i} of MLflow?"},
            "outputs": f"Feature {i} of MLflow tracks experiments and registers models.",
            "expectations": {"expected_response": f"Feature {i} tracks experiments."},
        }
        for i in range(n)
    ]


SCORERS = [Correctness(), RelevanceToQuery(), Safety()]


def measured(work: Any, *args: Any) -> tuple[float, float]:
    """(process CPU seconds, wall seconds) of ``work(*args)``, including the export of the
    spans it made."""
    cpu, wall = time.process_time(), time.perf_counter()
    work(*args)
    otelfeedback.flush()
    return time.process_time() - cpu, time.perf_counter() - wall


def raw_calls(base_url: str, rows: list[dict[str, Any]]) -> float:
    """The same judge calls with the bare openai client, one after another."""
    judges = {type(s).__name__: s for s in SCORERS}
    requests = []
    for row in rows:
        sections = {
            "Correctness": {
                "request": row["inputs"],
                "response": row["outputs"],
                **row["expectations"],
            },
            "RelevanceToQuery": {"request": row["inputs"], "response": row["outputs"]},
            "Safety": {"response": row["outputs"]},
        }
        for name, judge in judges.items():
            prompt = judge.prompt  # type: ignore[attr-defined]
            schema = prompt.spec.schema()
            fmt = {
                "type": "json_schema",
                "json_schema": {"name": "judgement", "strict": True, "schema": schema},
            }
            requests.append((prompt.messages(sections[name]), fmt))
    client = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)
    start = time.perf_counter()
    for messages, fmt in requests:
        answer = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, response_format=fmt
        )
        assert answer.choices[0].message.content
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def run_evaluate(rows: list[dict[str, Any]], workers: int) -> float:
    start = time.perf_counter()
    result = otelfeedback.evaluate(data=rows, scorers=SCORERS, max_workers=workers, progress=False)
    elapsed = time.perf_counter() - start
    assert result.errors == {}, result.errors
    assert len(result.rows) == len(rows)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1, help="judge latency, seconds")
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--wall-rounds", type=int, default=1)
    args = parser.parse_args()
    rows = make_rows(args.rows)
    calls = args.rows * len(SCORERS)
    with tempfile.TemporaryDirectory() as tmp:
        otelfeedback.configure(store=Path(tmp) / "store", export_queue_size=100_000)
        print(f"load average: {os.getloadavg()[0]:.2f}  (cores: {os.cpu_count()})")

        proc, base_url = start_judge(0.0)
        os.environ["OPENAI_BASE_URL"] = base_url
        try:
            run_evaluate(rows[:50], 1)  # warm up: imports, client, connections
            raw_calls(base_url, rows[:50])
            raw, ours = [], []
            for _ in range(args.rounds):
                raw.append(measured(raw_calls, base_url, rows))
                ours.append(measured(run_evaluate, rows, 1))
        finally:
            stop_judge(proc)
        print(f"\n1) overhead, instant judge, 1 worker, {args.rows} rows x {len(SCORERS)} judges")
        for index, label in ((0, "CPU time"), (1, "wall time")):
            raw_s = statistics.median(r[index] for r in raw)
            ours_s = statistics.median(r[index] for r in ours)
            per_row_ms = (ours_s - raw_s) / args.rows * 1000
            print(
                f"   {label:9}: bare openai client ({calls} calls) {raw_s:6.2f} s, "
                f"evaluate() {ours_s:6.2f} s -> overhead {per_row_ms:5.2f} ms per row"
            )
        print("   target: <= 2 ms per row")

        proc, base_url = start_judge(args.latency)
        os.environ["OPENAI_BASE_URL"] = base_url
        try:
            walls = [run_evaluate(rows, args.workers) for _ in range(args.wall_rounds)]
        finally:
            stop_judge(proc)
        wall = statistics.median(walls)
        ideal = calls * args.latency / args.workers
        print(f"\n2) wall time, judge latency {args.latency * 1e3:.0f} ms, {args.workers} workers")
        print(f"   ideal (calls x latency / workers): {ideal:7.2f} s")
        print(f"   evaluate():                        {wall:7.2f} s")
        print(f"   ratio:                             {wall / ideal:7.2f}x  (target <= 1.3x)")
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
        otelfeedback.reset()


if __name__ == "__main__":
    main()
