"""State survives fork() (issue 13): an app that forks workers while the SDK is exporting
(gunicorn, Celery, multiprocessing) gets every child's traces, no child deadlocks on a lock
a parent thread held, and no child holds the store's file lock it inherited.

Each scenario runs as its own process (forking pytest itself would fork its threads' state
too), with a timeout: a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

from otelfeedback.store import FileStore

CHILD_TRACES = 30

APP = textwrap.dedent("""
    import multiprocessing, os, sys, threading, time
    import otelfeedback

    store, forks = sys.argv[1], int(sys.argv[2])
    otelfeedback.configure(store=store, export_delay_ms=1, export_batch_size=8)

    @otelfeedback.trace
    def work(who, i):
        return i

    stop = threading.Event()

    def traffic():  # the parent keeps exporting while it forks
        i = 0
        while not stop.is_set():
            work("parent", i)
            i += 1

    threads = [threading.Thread(target=traffic, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.2)

    def child(n):
        for i in range(CHILD_TRACES):
            work(f"child-{n}", i)

    pids = []
    for n in range(forks):  # plain fork; the child ends the way a script does
        time.sleep(0.01)
        pid = os.fork()
        if pid == 0:
            child(n)
            sys.exit(0)
        pids.append(pid)
    # multiprocessing's fork children leave through os._exit (no atexit handlers)
    context = multiprocessing.get_context("fork")
    processes = []
    for n in range(forks, 2 * forks):
        time.sleep(0.01)
        process = context.Process(target=child, args=(n,))
        process.start()
        processes.append(process)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    for process in processes:
        process.join()
        codes.append(process.exitcode)
    stop.set()
    for t in threads:
        t.join()
    otelfeedback.flush()
    print(codes)
""").replace("CHILD_TRACES", str(CHILD_TRACES))

#: A child forked while another thread holds the store's file lock lives on; the parent's
#: next flush must not wait for it.
HELD_LOCK = textwrap.dedent("""
    import os, sys, threading, time
    import otelfeedback
    from otelfeedback.store import FileStore

    store = sys.argv[1]
    otelfeedback.configure(store=store, export_delay_ms=1)

    @otelfeedback.trace
    def work(i):
        return i

    work(0)
    otelfeedback.flush()
    side = FileStore(store).segment_writer()  # another writer of the same store

    def hold():
        with side.exclusive():
            time.sleep(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    pid = os.fork()
    if pid == 0:
        time.sleep(20)  # a long-lived worker
        os._exit(0)
    holder.join()
    started = time.monotonic()
    work(1)
    otelfeedback.flush()
    print(round(time.monotonic() - started, 3))
    os.kill(pid, 9)
    os.waitpid(pid, 0)
""")


def _run(script: str, *args: str, timeout: float = 90) -> str:
    """Run ``script``; on timeout (a deadlock) kill it and every process it forked."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"timed out after {timeout} s (a deadlock)") from None
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # children left behind, if any
        except ProcessLookupError:
            pass
    assert process.returncode == 0, err[-3000:]
    return out


def _inputs(store: Path) -> Counter[str]:
    with FileStore(store) as reader:
        traces = reader.search_traces(max_results=None)
    return Counter(json.loads(t.info.request_preview or "{}").get("who", "?") for t in traces)


def test_forked_children_lose_no_trace_and_never_deadlock(tmp_path: Path) -> None:
    forks = 5
    out = _run(APP, str(tmp_path), str(forks))
    assert json.loads(out.strip().splitlines()[-1]) == [0] * (2 * forks)
    seen = _inputs(tmp_path)
    for n in range(2 * forks):
        assert seen[f"child-{n}"] == CHILD_TRACES, (n, seen)
    assert seen["parent"] > 0


def test_a_child_never_holds_the_parents_file_lock(tmp_path: Path) -> None:
    stall = float(_run(HELD_LOCK, str(tmp_path)).strip().splitlines()[-1])
    # The child sleeps 20 s; an inherited lock would hold the flush that long.
    assert stall < 10, stall
    assert sorted(_inputs(tmp_path).elements()) == ["?", "?"]
