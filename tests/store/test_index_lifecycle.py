"""The index is derived data: deleting it at any time, even while processes read and write
the store, loses nothing and breaks no process; large result sets load in batches."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otelfeedback.store import FileStore
from tests.server.live import LiveServer, get
from tests.store.otlp_fixtures import append, line, sid, span, tid

#: Reads the store each time it is told to on stdin, printing how many traces it sees.
READER = textwrap.dedent("""
    import sys
    from otelfeedback.store import FileStore
    store = FileStore(sys.argv[1])
    for command in sys.stdin:
        print(len(store.search_traces(max_results=None)), flush=True)
""")


def _trace(store: Path, n: int) -> None:
    append(store, line([span(tid(n), sid(n), f"t{n}", start_ms=n)]))


def test_deleting_the_index_under_running_processes(tmp_path: Path) -> None:
    from otelfeedback.server import create_app

    for n in range(1, 4):
        _trace(tmp_path, n)
    here = FileStore(tmp_path)
    assert len(here.search_traces()) == 3
    other = subprocess.Popen(
        [sys.executable, "-c", READER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    live = LiveServer(create_app(tmp_path))
    try:
        assert other.stdin is not None and other.stdout is not None

        def other_count() -> int:
            assert other.stdin is not None and other.stdout is not None
            other.stdin.write("read\n")
            other.stdin.flush()
            return int(other.stdout.readline())

        assert other_count() == 3
        assert get(live.url + "/api/traces").json()["traces"]
        for round_ in range(2):  # twice: the new index can be deleted too
            (tmp_path / "index.sqlite").unlink()
            _trace(tmp_path, 10 + round_)
            expected = 4 + round_
            with FileStore(tmp_path) as newcomer:  # a new process (the CLI) makes a new index
                assert len(newcomer.search_traces()) == expected
            assert len(here.search_traces()) == expected
            assert other_count() == expected
            reply = get(live.url + "/api/traces")
            assert reply.status == 200 and len(reply.json()["traces"]) == expected
            assert here.get_trace(tid(10 + round_)).info.name == f"t{10 + round_}"
        # Whoever recreated it, the index is one healthy database.
        check = sqlite3.connect(tmp_path / "index.sqlite")
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        check.close()
    finally:
        live.close()
        other.communicate(timeout=10)  # closes its stdin: it exits
        here.close()


def test_a_huge_result_set_loads_past_sqlites_variable_limit(tmp_path: Path) -> None:
    count = 1200
    append(
        tmp_path,
        "".join(line([span(tid(n), sid(n), "t", start_ms=n)]) for n in range(1, count + 1)),
    )
    store = FileStore(tmp_path)
    conn = store._connect()
    if not hasattr(conn, "setlimit"):
        pytest.skip("sqlite3.Connection.setlimit needs Python 3.11")
    # As an SQLite build from before 3.32 (the limit a default build has is 32,766).
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    traces = store.search_traces(max_results=None)
    assert len(traces) == count
    assert all(len(t.spans) == 1 for t in traces)
    assert [t.info.trace_id for t in traces[:2]] == [tid(count), tid(count - 1)]
    store.close()
