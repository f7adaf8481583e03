"""Datasets benchmark (issue 12): merging records and loading a version, on a file store.

    .venv/bin/python bench/datasets.py                    # 100,000 records
    .venv/bin/python bench/datasets.py --records 10000    # a quick run

Measures, each the best of ``--repeat`` runs on a fresh store:

- **merge**: ``ds.merge_records(records)`` of N new dict records (inputs, outputs,
  expectations, tags) into an empty dataset: one new version. Target >= 20,000 records/s.
- **merge into**: the same N records again with one changed expectation each (N changes).
- **load**: ``get_dataset(name)`` and its ``records`` in a fresh store object (nothing
  cached): a version of N records. Target <= 1 s.
- **load old**: version 1 after version 2 changed every record (the snapshot read).

Each is printed with a baseline measured in the same process: the standard library's
``json.dumps`` (for merges) or ``json.loads`` (for loads) of the same N records, one record
at a time, so the ratio says how far the dataset layer is from bare serialization whatever
the machine's speed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from otelfeedback.datasets import catalog
from otelfeedback.store import FileStore


def make_records(count: int, variant: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "inputs": {"question": f"How do I reset order {i}?", "locale": "en-US"},
            "outputs": f"Open Settings, choose Orders, then order {i}, then Reset.",
            "expectations": {
                "expected_response": f"Settings > Orders > {i} > Reset ({variant})",
                "expected_facts": ["settings page", "reset button"],
            },
            "tags": {"split": "eval" if i % 5 == 0 else "train"},
        }
        for i in range(count)
    ]


def best(repeat: int, run: Callable[[], float]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        times.append(run())
    return min(times)


class Bench:
    """The measurements, each on its own copy of a store under ``root``."""

    def __init__(self, root: Path, count: int) -> None:
        self.root, self.count = root, count
        self.records, self.changed = make_records(count), make_records(count, variant=1)
        self.texts = [json.dumps(r) for r in self.records]
        self.stores: dict[str, Path] = {}

    def dumps_baseline(self) -> float:
        started = time.perf_counter()
        for record in self.records:
            json.dumps(record)
        return time.perf_counter() - started

    def loads_baseline(self) -> float:
        started = time.perf_counter()
        for text in self.texts:
            json.loads(text)
        return time.perf_counter() - started

    def merge_new(self) -> float:
        path = Path(tempfile.mkdtemp(dir=self.root))
        store = FileStore(path)
        ds = catalog.create(store, "bench")
        started = time.perf_counter()
        ds.merge_records(self.records)
        elapsed = time.perf_counter() - started
        assert ds.version == 1 and ds.record_count == self.count
        store.close()
        self.stores["one version"] = path
        return elapsed

    def merge_into(self) -> float:
        path = Path(tempfile.mkdtemp(dir=self.root))
        shutil.copytree(self.stores["one version"], path, dirs_exist_ok=True)
        store = FileStore(path)
        ds = catalog.get(store, "bench")
        started = time.perf_counter()
        ds.merge_records(self.changed)
        elapsed = time.perf_counter() - started
        assert ds.version == 2 and ds.versions()[-1].changed == self.count
        store.close()
        self.stores["two versions"] = path
        return elapsed

    def load(self, which: str, version: int | None) -> Callable[[], float]:
        def run() -> float:
            store = FileStore(self.stores[which])
            store.update_index()  # (catching up is not part of loading)
            started = time.perf_counter()
            ds = catalog.get(store, "bench", version)
            loaded = len(ds.records)
            elapsed = time.perf_counter() - started
            assert loaded == self.count
            store.close()
            return elapsed

        return run


def report(count: int, repeat: int, dumps: float, loads: float, results: list[Any]) -> None:
    print(f"otelfeedback datasets benchmark: {count:,} records, best of {repeat}")
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}")
    print(f"baselines: json.dumps {dumps:.3f} s, json.loads {loads:.3f} s (one record a call)")
    for name, seconds, baseline, rate_target, time_target in results:
        line = f"{name:30} {seconds:7.3f} s  {count / seconds:10,.0f} records/s"
        line += f"  {seconds / baseline:5.1f}x baseline"
        if rate_target is not None:
            met = "met" if count / seconds >= rate_target else "NOT met"
            line += f"  (target >= {rate_target:,}/s: {met})"
        if time_target is not None:
            met = "met" if seconds <= time_target else "NOT met"
            line += f"  (target <= {time_target} s: {met})"
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="otelfeedback-bench-datasets-"))
    bench = Bench(root, args.records)
    try:
        dumps = best(args.repeat, bench.dumps_baseline)
        loads = best(args.repeat, bench.loads_baseline)
        results = [
            ("merge (new records)", best(args.repeat, bench.merge_new), dumps, 20_000, None),
            (
                "merge (every record changed)",
                best(args.repeat, bench.merge_into),
                dumps,
                None,
                None,
            ),
            (
                "load the latest version",
                best(args.repeat, bench.load("one version", None)),
                loads,
                None,
                1.0,
            ),
            (
                "load version 1 of 2",
                best(args.repeat, bench.load("two versions", 1)),
                loads,
                None,
                1.0,
            ),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(args.records, args.repeat, dumps, loads, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
