"""Reads never wait on an unbounded catch-up (issue 13): a read indexes at most the lines
present when it starts; with an ``index_budget`` it brings in a small backlog (what was just
sent) within the budget, even when another writer holds the index, and only nudges a large
one, answering from what is indexed; a background thread indexes the rest. Freshness is
reported, never hidden."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from otelfeedback.store import FileStore
from otelfeedback.store.background import BackgroundIndexer
from tests.server.live import LiveServer, get
from tests.store.otlp_fixtures import append, io_attrs, line, sid, span, tid


def _backlog(store: Path, traces: int, first: int = 1) -> None:
    text = "".join(
        line(
            [
                span(tid(n), sid(n), "chat", start_ms=n, attrs=io_attrs("CHAIN", "q" * 200, "a"))
                for n in range(start, min(start + 100, first + traces))
            ]
        )
        for start in range(first, first + traces, 100)
    )
    append(store, text)


def _wait_until(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_budgeted_read_answers_with_what_is_indexed_and_says_so(tmp_path: Path) -> None:
    _backlog(tmp_path, 100)
    store = FileStore(tmp_path, index_budget=5.0)
    assert len(store.search_traces(max_results=None)) == 100  # a small backlog: caught up
    assert store.index_status().up_to_date
    _backlog(tmp_path, 20_000, first=1000)  # far more than READ_BACKLOG
    assert len(store.search_traces(max_results=None, include_spans=False)) == 100
    status = store.index_status()
    assert not status.up_to_date and status.pending_bytes > 0
    background = BackgroundIndexer(tmp_path, idle_seconds=0.01)
    background.start()
    try:
        _wait_until(lambda: store.index_status().up_to_date)
    finally:
        background.stop()
    assert len(store.search_traces(max_results=None, include_spans=False)) == 20_100
    store.close()


def test_a_budgeted_read_waits_for_another_writer_only_within_its_budget(
    tmp_path: Path,
) -> None:
    _backlog(tmp_path, 10)
    store = FileStore(tmp_path, index_budget=0.2)
    assert len(store.search_traces()) == 10
    _backlog(tmp_path, 10, first=100)
    holder = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process indexing a large chunk
    try:
        # Without a budget this read would wait (up to 60 s) for the write lock.
        assert len(store.search_traces()) == 10
        assert not store.index_status().up_to_date
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(store.search_traces()) == 20
    store.close()


def test_a_read_sees_what_was_just_sent_while_another_writer_indexes_it(
    tmp_path: Path,
) -> None:
    """Read-your-writes with a budget: the read waits for whoever holds the index."""
    _backlog(tmp_path, 10)
    store = FileStore(tmp_path, index_budget=30.0)
    assert len(store.search_traces()) == 10
    _backlog(tmp_path, 10, first=100)
    other = FileStore(tmp_path)
    holder = sqlite3.connect(
        tmp_path / "index.sqlite", isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.3, lambda: (holder.execute("ROLLBACK"), other.update_index()))
    released.start()
    try:
        assert len(store.search_traces()) == 20
    finally:
        released.join()
        holder.close()
        other.close()
        store.close()


def test_an_unbudgeted_read_indexes_only_what_was_there_when_it_started(tmp_path: Path) -> None:
    _backlog(tmp_path, 50)
    with FileStore(tmp_path) as store:
        stats = store.update_index()
        assert stats.lines == 1 and stats.spans == 50 and stats.complete


def test_the_background_indexer_catches_up_while_spans_pour_in(tmp_path: Path) -> None:
    background = BackgroundIndexer(tmp_path, idle_seconds=0.01)
    background.start()
    try:
        for batch in range(20):
            _backlog(tmp_path, 500, first=1 + batch * 500)
        store = FileStore(tmp_path, index_budget=0.0)  # reads never index themselves
        _wait_until(lambda: store.index_status().up_to_date)
        assert len(store.search_traces(max_results=None, include_spans=False)) == 10_000
        assert background.indexed_lines == 100
        store.close()
    finally:
        background.stop()
    assert not background.running


def test_pages_and_health_show_the_index_freshness(tmp_path: Path) -> None:
    from otelfeedback.server import create_app

    _backlog(tmp_path, 5)
    live = LiveServer(create_app(tmp_path, background_indexing=False))
    try:
        page = get(live.url + "/traces?format=json").json()
        assert len(page["traces"]) == 5 and page["index"]["up_to_date"]
        _backlog(tmp_path, 5, first=100)
        holder = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            page = get(live.url + "/traces?format=json").json()
            assert len(page["traces"]) == 5
            assert page["index"]["pending_bytes"] > 0 and not page["index"]["up_to_date"]
            assert "not searchable yet" in get(live.url + "/traces").text
            health = get(live.url + "/api/health").json()
            assert health["index"]["pending_bytes"] > 0
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert len(get(live.url + "/traces?format=json").json()["traces"]) == 10
        assert "not searchable yet" not in get(live.url + "/traces").text
    finally:
        live.close()


def test_the_server_indexes_in_the_background(tmp_path: Path) -> None:
    from otelfeedback.server import create_app

    live = LiveServer(create_app(tmp_path))
    try:
        _backlog(tmp_path, 2000)
        # Nobody reads: the server's own thread indexes what arrives.
        _wait_until(lambda: get(live.url + "/api/health").json()["index"]["up_to_date"])
        with FileStore(tmp_path, index_budget=0.0) as store:
            assert len(store.search_traces(max_results=None, include_spans=False)) == 2000
    finally:
        live.close()


def test_requests_in_flight_slow_the_background_indexer_but_never_starve_it(
    tmp_path: Path,
) -> None:
    from otelfeedback.store.background import ReadGate

    gate = ReadGate()
    background = BackgroundIndexer(tmp_path, idle_seconds=0.01, gate=gate)
    background.start()
    try:
        with gate.reading():  # a page request that never ends
            _backlog(tmp_path, 3000)
            store = FileStore(tmp_path, index_budget=0.0)
            _wait_until(lambda: store.index_status().up_to_date)
            store.close()
    finally:
        background.stop()
