"""Labeling benchmark (issue 10): a 10,000-item labeling session.

    .venv/bin/python bench/labeling.py                  # 10,000 traces, all in one session
    .venv/bin/python bench/labeling.py --items 2000     # a quick run

1. ``add_traces`` of every trace of a fresh store (``bench/store.py``'s generator, 5 spans per
   trace) to a new session, timed end to end (existence check, idempotency, records written);
   the baseline is appending the same number of bare records with ``append_records``, in the
   same process. Target: <= 5 s for 10,000 traces. Adding them all again (idempotent) is
   timed too.
2. The review app's item page: ``--labeled`` items get labels from two reviewers first; then a
   fresh ``otelfeedback server`` process serves a reviewer's link and random item pages are
   requested over loopback (request latency: an upper bound of the server's time); the first
   request (which loads the session) is timed apart. The baseline is the developer UI's
   trace page of the same traces. Also timed: "submit & next" (POST, redirect, next page).
   Target: item page p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import server as server_bench  # bench/server.py: starting a server, timing requests
import store as store_bench  # bench/store.py: the trace generator
from otelfeedback.labeling import (
    InputCategorical,
    InputText,
    create_label_schema,
    create_labeling_session,
    links,
    reviews,
    using_store,
)
from otelfeedback.store import FileStore
from otelfeedback.store.records import RecordWrite


def bench_add(store: FileStore, ids: list[str]) -> tuple[str, float]:
    with using_store(store):
        create_label_schema(
            "response_accuracy",
            title="Is the response factually accurate?",
            input=InputCategorical(["Accurate", "Partially Accurate", "Inaccurate"]),
        )
        create_label_schema(
            "expected_response", type="expectation", title="Ideal response?", input=InputText()
        )
        session = create_labeling_session(
            "bench", label_schemas=["response_accuracy", "expected_response"]
        )
        store.search_traces(None, 1)  # index the generated traces before timing
        started = time.perf_counter()
        session.add_traces(ids)
        added = time.perf_counter() - started
        started = time.perf_counter()
        session.add_traces(ids)
        again = time.perf_counter() - started
    started = time.perf_counter()
    store.append_records(
        [
            RecordWrite("bench_baseline", f"b-{n}", {"trace_id": t, "position": n})
            for n, t in enumerate(ids)
        ]
    )
    baseline = time.perf_counter() - started
    searches, unfiltered = [], []
    for _ in range(20):
        began = time.perf_counter()
        found = store.search_traces("labeling_session.name = 'bench'", 100, None, None, None, False)
        searches.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        store.search_traces(None, 100, None, None, None, False)
        unfiltered.append((time.perf_counter() - began) * 1000)
    assert len(found) == min(100, len(ids))
    flag = "ok" if added <= 5 else "SLOW"
    print(f"  add_traces({len(ids):,} traces)          {added:6.2f} s   [{flag}; target <= 5 s]")
    print(f"  add_traces again (all present)      {again:6.2f} s")
    print(
        f"  baseline: append_records({len(ids):,})   {baseline:6.2f} s   "
        f"(add_traces / baseline = {added / baseline:.1f}x)"
    )
    p50, p95 = server_bench.percentiles(searches)
    print(
        f"  search_traces(labeling_session.name = ...), first 100: p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms (no filter: p95 {server_bench.percentiles(unfiltered)[1]:.1f} ms)"
    )
    return session.labeling_session_id, added


def label_some(store: FileStore, session_id: str, ids: list[str], count: int) -> None:
    from otelfeedback.labeling.sessions import load_session

    rng = random.Random(5)
    started = time.perf_counter()
    with using_store(store, service_name="bench"):
        session = load_session(store, session_id)
        schemas = session.schemas(store)
        for trace_id in ids[:count]:
            for reviewer in ("alice", "bob"):
                labels = {"response_accuracy": rng.choice(["Accurate", "Inaccurate"])}
                reviews.submit(store, session, trace_id, reviewer, labels, None, schemas)
    took = time.perf_counter() - started
    if count:
        print(
            f"  labeled {count:,} items x 2 reviewers through the SDK in {took:.1f} s "
            f"({1000 * took / (2 * count):.1f} ms per submission)"
        )


def post_form(url: str, fields: dict[str, str], cookie: str) -> tuple[float, str]:
    parts = urllib.parse.urlsplit(url)
    body = urllib.parse.urlencode(fields).encode()
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request(
        "POST",
        parts.path,
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    location = response.getheader("location") or ""
    conn.close()
    assert response.status == 303, response.status
    took = server_bench.timed_get(parts.scheme + "://" + parts.netloc + location)
    return (time.perf_counter() - started) * 1000 if took else 0.0, location


def bench_pages(store_dir: Path, session_id: str, ids: list[str], rounds: int) -> None:
    store = FileStore(store_dir)
    process, url = server_bench.start_server(store_dir)
    try:
        token = links.sign(store, session_id, "carol", 2**40)
        base = f"{url}/review/{token}"
        first = server_bench.timed_get(f"{base}/items/{ids[-1]}")
        print(f"  first item page (loads the {len(ids):,}-item session): {first:.0f} ms")
        rng = random.Random(11)
        pages = {
            "review item page": lambda: f"{base}/items/{rng.choice(ids)}",
            "review item page, JSON twin": lambda: f"{base}/items/{rng.choice(ids)}?format=json",
            "baseline: developer trace page": lambda: f"{url}/traces/{rng.choice(ids)}",
        }
        results = {}
        for name, make_url in pages.items():
            samples = [server_bench.timed_get(make_url()) for _ in range(rounds)]
            results[name] = server_bench.percentiles(samples)
        for name, (p50, p95) in results.items():
            flag = ""
            if name == "review item page":
                flag = f"   [{'ok' if p95 <= 150 else 'SLOW'}; target p95 <= 150 ms]"
            print(f"  {name:<32} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms{flag}")
        ratio = results["review item page"][1] / results["baseline: developer trace page"][1]
        print(f"  item page p95 / trace page p95 = {ratio:.2f}x")
        # submit & next: a real reviewer's loop (CSRF cookie from the first page)
        with urllib.request.urlopen(f"{base}/items/{ids[0]}") as response:
            cookie = response.headers.get("set-cookie", "").split(";", 1)[0]
        csrf = cookie.split("=", 1)[1]
        location = f"/review/{token}/items/{ids[0]}"
        samples = []
        for _ in range(min(rounds, 50)):
            took, location = post_form(
                url + location,
                {"csrf_token": csrf, "action": "submit", "label-0": "Accurate"},
                cookie,
            )
            samples.append(took)
            if not re.search(r"/items/", location):
                break
        p50, p95 = server_bench.percentiles(samples)
        print(f"  submit & next (POST + next page)  p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    finally:
        server_bench.stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--labeled", type=int, default=500, help="items labeled beforehand")
    parser.add_argument("--rounds", type=int, default=100, help="requests per page kind")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"otelfeedback labeling benchmark  (python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cpus, load {load:.1f})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "store"
        spans, ids = store_bench.generate(directory, args.items)
        print(f"a session of {args.items:,} traces ({spans:,} spans in the store):")
        store = FileStore(directory)
        session_id, _ = bench_add(store, ids)
        label_some(store, session_id, ids, args.labeled)
        store.close()
        print(f"review app ({args.rounds} requests each):")
        bench_pages(directory, session_id, ids, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
