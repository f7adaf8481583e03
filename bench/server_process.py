"""An ``otelfeedback server`` in a child process for the benchmarks: started on a free
loopback port, ready when ``/api/health`` answers, stopped at the end; and the exporter
processes that post to it, timed from all ready to all done."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(store: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``otelfeedback server --store STORE --workers N`` (with no ``OTELFEEDBACK_``
    variable from this environment); return the process and its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTELFEEDBACK_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, otelfeedback.cli as c; sys.exit(c.main())",
            "server",
            "--store",
            store,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=2).read()
            return process, url
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(30)


def run_exporters(
    target: Callable[..., None], args: Sequence[tuple[Any, ...]], context: Any = multiprocessing
) -> float:
    """One process per ``args`` running ``target(*args, queue)``, which puts ``"ready"`` on
    the queue once set up and ``"done"`` when finished; returns the seconds from all ready to
    all done."""
    queue = context.Queue()
    workers = [context.Process(target=target, args=(*a, queue)) for a in args]
    for worker in workers:
        worker.start()
    for _ in workers:
        assert queue.get(timeout=600) == "ready"
    started = time.perf_counter()
    for _ in workers:
        assert queue.get(timeout=3600) == "done"
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return seconds
