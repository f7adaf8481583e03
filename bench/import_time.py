"""Import time of otelfeedback against the OpenTelemetry SDK's own, in fresh processes.

Each statement runs in a new interpreter, interleaved with the others, ``--runs`` times; the
time is the median wall time minus that of an empty interpreter (``pass``) measured in the
same rounds. Target: ``import otelfeedback`` and ``from otelfeedback.tracing import trace``
at most 1.2x ``import opentelemetry.sdk.trace``.

    python bench/import_time.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "baseline: empty interpreter": "pass",
    "opentelemetry.sdk.trace": "import opentelemetry.sdk.trace",
    "otelfeedback": "import otelfeedback",
    "otelfeedback.tracing": "from otelfeedback.tracing import trace",
    "otelfeedback + configure()": "import otelfeedback; otelfeedback.configure(store='')",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL", "OTELFEEDBACK"))}
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(args.runs):
        for name, statement in STATEMENTS.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True, env=env)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    empty = medians.pop("baseline: empty interpreter")
    sdk = medians["opentelemetry.sdk.trace"] - empty
    print(f"load average {os.getloadavg()[0]:.2f}; empty interpreter {empty * 1000:.1f} ms")
    print(f"{'import':30} {'ms':>8} {'x SDK':>7}")
    for name, value in medians.items():
        cost = value - empty
        print(f"{name:30} {cost * 1000:8.1f} {cost / sdk:7.2f}")


if __name__ == "__main__":
    main()
