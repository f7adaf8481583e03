"""What a plain chat call's instrumentation adds, counted rather than timed (docs/openai.md,
"Overhead"): the counters behind bench/openai_overhead.py's times.

Real calls against FakeOpenAIServer (in a child process, not counted), the same sides as
the timing benchmark (``off``, ``sdk``, ``otel``, ``stock``, ``lean`` by default; see its
docstring), each side's extra over ``off`` per call:

- **bytecodes**: the Python bytecodes the calling thread runs, by whose code they are (ours,
  OpenTelemetry's, the rest), counted with ``sys.settrace``'s opcode events.
- with ``--callgrind``, **instructions and cache misses**: the whole process (the export
  worker too) under valgrind's callgrind with its cache simulation, modelled on this
  machine's caches (64 KiB L1i, 48 KiB L1d, 2 MiB L2 as the last level). The first level
  misses are what code run cold costs: between two calls the client's own 1.5 ms of Python
  evicts ours. ``est. cycles`` is callgrind's own estimate: an instruction, plus 10 a
  first-level miss, plus 100 a last-level miss. These counts do not depend on the
  machine's load (about two minutes).

    python bench/openai_call_counters.py [--sides off,sdk,otel,stock,lean] [--calls 20]
        [--callgrind]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import openai_overhead as timing
from callgrind import run_in_parts

#: Whose code a bytecode is (``httpx`` also counts ``httpx2``, which recent clients use).
OWNERS = ("otelfeedback", "opentelemetry", "openai", "httpx", "httpcore", "h11", "pydantic")
MISSES = ("I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw")


@contextmanager
def chat_calls() -> Iterator[tuple[Callable[[], None], Callable[[str], None]]]:
    """A plain chat call against the fake server, and a function that puts the client in a
    side's state (after its first call, which it makes and does not count)."""
    with timing.session() as bench:

        def enter(side: str) -> None:
            timing.enter(side, bench.sdk, bench.tracers)
            bench.plain()
            bench.flush()

        try:
            enter("lean")  # the attributes ``stock`` records: a lean span's
            timing.STOCK.update(bench.exporter.last)
            yield bench.plain, enter
        finally:
            timing.enter("off", bench.sdk, bench.tracers)


def owner(filename: str) -> str:
    for name in OWNERS:
        if f"/{name}/" in filename or f"/{name}2/" in filename:
            return name
    return "other"


def bytecodes(sides: list[str], calls: int) -> dict[str, collections.Counter[str]]:
    """Bytecodes the calling thread runs per call, by owner, for each side."""
    counts: collections.Counter[str] = collections.Counter()

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        if event == "opcode":
            counts[owner(frame.f_code.co_filename)] += 1
        return tracer

    found: dict[str, collections.Counter[str]] = {}
    with chat_calls() as (plain, enter):
        for side in sides:
            enter(side)
            counts.clear()
            sys.settrace(tracer)
            try:
                for _ in range(calls):
                    plain()
            finally:
                sys.settrace(None)
            found[side] = collections.Counter({k: v // calls for k, v in counts.items()})
    return found


def marked_blocks(sides: list[str], calls: int, cycles: int) -> None:
    """Under callgrind: blocks of ``calls`` calls per side, each between two ``getppid``
    markers (callgrind dumps its counts at each); prints the order of the blocks."""
    import otelfeedback

    order = []
    with chat_calls() as (plain, enter):
        for _ in range(cycles):
            for side in sides:
                enter(side)
                os.getppid()
                for _ in range(calls):
                    plain()
                otelfeedback.flush()  # the export worker's share
                os.getppid()
                order.append(side)
    print(",".join(order), flush=True)


def instructions(sides: list[str], calls: int, cycles: int) -> dict[str, dict[str, float]]:
    """Instructions and cache misses per call (whole process), for each side."""
    blocks = ["--blocks", "--sides", ",".join(sides), "--calls", str(calls)]
    printed, parts = run_in_parts([__file__, *blocks, "--cycles", str(cycles)], cache_sim=True)
    order = printed.strip().splitlines()[-1].split(",")
    totals: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for index, side in enumerate(order):
        totals[side].update(parts[1 + 2 * index])  # part 0: the setup; then block, gap, ...
    per_call = {
        side: {k: v / (calls * cycles) for k, v in found.items()} for side, found in totals.items()
    }
    for found in per_call.values():
        l1 = found["I1mr"] + found["D1mr"] + found["D1mw"]
        found["est. cycles"] = (
            found["Ir"] + 10 * l1 + 100 * (found["ILmr"] + found["DLmr"] + found["DLmw"])
        )
    return per_call


def show(title: str, found: dict[str, Any], columns: list[str]) -> None:
    base = found["off"]
    print(f"\n{title}")
    print(f"{'side':<8}" + "".join(f"{c:>14}" for c in columns))
    for side, values in found.items():
        if side == "off":
            print(f"{side:<8}" + "".join(f"{base.get(c, 0):>14,.0f}" for c in columns))
            continue
        print(
            f"{side:<8}" + "".join(f"{values.get(c, 0) - base.get(c, 0):>+14,.0f}" for c in columns)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sides", default="off,sdk,otel,stock,lean", help="off first")
    parser.add_argument("--calls", type=int, default=20, help="calls per side (per block)")
    parser.add_argument("--cycles", type=int, default=2, help="blocks per side (--callgrind)")
    parser.add_argument("--callgrind", action="store_true", help="count instructions too")
    parser.add_argument("--blocks", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sides = args.sides.split(",")
    if sides[0] != "off":
        parser.error("--sides: off first")
    if args.blocks:
        marked_blocks(sides, args.calls, args.cycles)
        return
    found = bytecodes(sides, args.calls)
    columns = [*OWNERS, "other"]
    for values in found.values():
        values["total"] = sum(values.values())
    show(
        "bytecodes per call, calling thread (off: all; others: extra over off)",
        found,
        [*columns, "total"],
    )
    if args.callgrind:
        counted = instructions(sides, args.calls, args.cycles)
        show(
            "per call, whole process, under callgrind (off: all; others: extra over off)",
            counted,
            ["Ir", *MISSES, "est. cycles"],
        )


if __name__ == "__main__":
    main()
