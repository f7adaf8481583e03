"""Run a benchmark script under valgrind's callgrind, cut into parts at ``os.getppid()``.

The script calls ``os.getppid()`` between the parts it wants counted (a system call nothing
else here makes); callgrind dumps its counts at each call, so each part's instructions (and,
with the cache simulation, its cache misses) come out on their own, whatever the machine's
load.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

#: This machine's caches for the simulation: 64 KiB L1i, 48 KiB L1d, 2 MiB L2 (modelled as
#: the last level; the shared L3 is not).
CACHES = ("--I1=65536,8,64", "--D1=49152,12,64", "--LL=2097152,16,64")


def run_in_parts(args: list[str], cache_sim: bool = False) -> tuple[str, list[dict[str, int]]]:
    """Run ``python *args`` under callgrind; return what it printed and the events counted
    in each part, in order: part 0 runs up to the first ``getppid``, part 1 up to the
    second, and so on (``Ir``: instructions; with ``cache_sim``, also ``I1mr``, ``D1mr``,
    ``D1mw`` (first-level misses) and ``ILmr``, ``DLmr``, ``DLmw`` (last level))."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        child = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                *(("--cache-sim=yes", *CACHES) if cache_sim else ()),
                "--dump-before=getppid",
                f"--callgrind-out-file={out}",
                sys.executable,
                *args,
            ],
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        parts = []
        index = 1
        while (dump := Path(f"{out}.{index}")).exists():
            lines = dump.read_text().splitlines()
            events = next(line for line in lines if line.startswith("events:")).split()[1:]
            counts = next(line for line in lines if line.startswith(("totals:", "summary:")))
            parts.append(dict(zip(events, map(int, counts.split()[1:]), strict=True)))
            index += 1
    return child.stdout, parts
