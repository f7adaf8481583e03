"""Several writer and reader processes on one store (a file store, a PostgreSQL store):
every trace stored exactly once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from otelfeedback.store import FileStore
from tests.store.conftest import Backend

WRITER = textwrap.dedent("""
    import sys, otelfeedback
    otelfeedback.configure(store=sys.argv[1], file_max_bytes=20000, export_batch_size=7,
                           export_delay_ms=1)
    @otelfeedback.trace
    def work(i):
        with otelfeedback.start_span("inner", span_type="TOOL") as s:
            s.set_outputs(i)
        return i
    for i in range(int(sys.argv[2])):
        work(i)
        if i % 25 == 0:
            otelfeedback.flush()
    otelfeedback.reset()
""")

READER = textwrap.dedent("""
    import sys, time
    from tests.store.conftest import open_store
    store = open_store(sys.argv[1])
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline:
        traces = store.search_traces(max_results=None, include_spans=False)
        assert len({t.trace_id for t in traces}) == len(traces)
        assert all(t.info.span_count <= 2 for t in traces)
        seen = len(traces)
        if seen >= int(sys.argv[2]):
            break
        time.sleep(0.01)
    print(seen)
""")


def test_concurrent_writers_and_readers(backend: Backend) -> None:
    location = str(backend.location)
    root = Path(__file__).parents[2]
    per_writer = 150
    total = 2 * per_writer
    env_python = [sys.executable, "-c"]
    readers = [
        subprocess.Popen(
            [*env_python, READER, location, str(total)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for _ in range(2)
    ]
    writers = [
        subprocess.Popen(
            [*env_python, WRITER, location, str(per_writer)],
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for _ in range(2)
    ]
    for process in writers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    for process in readers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert int(out) == total
    store = backend.open()
    traces = store.search_traces(max_results=None)
    assert len(traces) == total
    assert all(t.info.span_count == 2 for t in traces)
    if isinstance(store, FileStore):
        assert len(list((backend.directory / "traces").glob("segment-*.jsonl"))) > 1
        before = sorted(t.trace_id for t in traces)
        store.reindex()
        assert sorted(t.trace_id for t in store.search_traces(max_results=None)) == before
