"""The index's performance design keeps the results: integer trace keys across updates, the
two full-text plans, escaped patterns, previews of roots with parents, schema upgrades."""

from __future__ import annotations

import gc
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from otelfeedback.store import FileStore, Trace, bulk, indexer
from otelfeedback.store.query import dialect
from otelfeedback.store.schema import MIGRATIONS
from tests.store.otlp_fixtures import append, io_attrs, line, request, sid, span, tid
from tests.store.test_filters import CASES


def _texts(tmp_path: Path, texts: list[str]) -> FileStore:
    append(
        tmp_path,
        line(
            [
                span(
                    tid(i + 1), sid(i + 1), "chat", start_ms=i, attrs=io_attrs("CHAIN", text, "ok")
                )
                for i, text in enumerate(texts)
            ]
        ),
    )
    return FileStore(tmp_path)


def _ids(traces: list[Trace]) -> set[int]:
    return {int(t.trace_id, 16) for t in traces}


@pytest.mark.parametrize("probe_rows", [1, 2, 1000])
@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("trace.text LIKE '%refund%'", {1, 2, 3}),
        ("trace.text ILIKE '%REFUND%'", {1, 2, 3}),
        ("trace.text NOT LIKE '%refund%'", {4}),
        # A filter string's backslash escapes the next character, so '\\\\%' reaches LIKE
        # as '\\%': a literal percent sign (trace 4 has "1000 sure").
        ("trace.text LIKE '%100\\\\% sure%'", {2}),
        ("trace.text LIKE '%a\\\\_b%'", {3}),
        ("trace.text LIKE '%zz%'", set()),
    ],
)
def test_full_text_gives_the_same_traces_from_the_index_or_the_walk(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    probe_rows: int,
    filter_string: str,
    expected: set[int],
) -> None:
    # probe_rows 1 and 2: the pattern counts as common and the traces are walked;
    # 1000: the index's answer is complete and used as is.
    monkeypatch.setattr(dialect, "TEXT_PROBE_ROWS", probe_rows)
    store = _texts(tmp_path, ["refund please", "refund? 100% sure", "refund a_b", "1000 sure axb"])
    assert _ids(store.search_traces(filter_string)) == expected


def test_full_text_with_many_matches_pages_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dialect, "TEXT_PROBE_ROWS", 3)
    store = _texts(tmp_path, [f"common words {i}" for i in range(10)])
    first = store.search_traces("trace.text LIKE '%common%'", max_results=4)
    second = store.search_traces(
        "trace.text LIKE '%common%'", max_results=4, page_token=first.token
    )
    assert [int(t.trace_id, 16) for t in [*first, *second]] == [10, 9, 8, 7, 6, 5, 4, 3]


def test_spans_of_one_trace_over_several_updates_share_its_key(tmp_path: Path) -> None:
    root_attrs = io_attrs("CHAIN", "first", None, **{"otelfeedback.trace.tags": '{"env": "a"}'})
    append(tmp_path, line([span(tid(1), sid(1), "root", attrs=root_attrs)]))
    store = FileStore(tmp_path)
    assert len(store.search_traces()) == 1
    child = span(
        tid(1),
        sid(2),
        "tool",
        parent=sid(1),
        start_ms=1,
        attrs=io_attrs("TOOL", "second", None, **{"tool.name": "lookup"}),
    )
    append(tmp_path, line([child]))
    append(tmp_path, line([child]))
    assert store.get_trace(tid(1)).info.span_count == 2
    # Exported twice, in a later update, beside a new trace.
    append(tmp_path, line([child, span(tid(2), sid(9), "other", start_ms=-1)]))
    trace = store.get_trace(tid(1))
    assert [s.name for s in trace.spans] == ["root", "tool"]
    assert trace.info.span_count == 2
    assert _ids(store.search_traces("trace.text LIKE '%second%' AND span.type = 'TOOL'")) == {1}
    assert _ids(store.search_traces("span.attributes.`tool.name` = 'lookup'")) == {1}
    assert trace.info.tags == {"env": "a"}
    assert _ids(store.search_traces("tags.env = 'a'")) == {1}


def test_root_with_a_remote_parent_keeps_its_previews_across_updates(tmp_path: Path) -> None:
    root = span(
        tid(1), sid(1), "handler", parent=sid(99), attrs=io_attrs("CHAIN", "question", "answer")
    )
    append(tmp_path, line([root]))
    store = FileStore(tmp_path)
    assert store.get_trace(tid(1)).info.request_preview == "question"
    child = span(tid(1), sid(2), "llm", parent=sid(1), start_ms=1, attrs=io_attrs("LLM", "x", "y"))
    append(tmp_path, line([child]))
    info = store.get_trace(tid(1)).info
    assert (info.root_span_id, info.request_preview, info.response_preview) == (
        sid(1),
        "question",
        "answer",
    )
    # An earlier span with an unknown parent arrives later and becomes the root.
    earlier = span(
        tid(1), sid(3), "gateway", parent=sid(98), start_ms=-5, attrs=io_attrs("CHAIN", "q0", "a0")
    )
    append(tmp_path, line([earlier]))
    info = store.get_trace(tid(1)).info
    assert (info.root_span_id, info.name, info.request_preview) == (sid(3), "gateway", "q0")


def test_index_built_before_integer_keys_is_rebuilt_on_open(tmp_path: Path) -> None:
    path = append(tmp_path, line([span(tid(1), sid(1), "chat")]))
    conn = sqlite3.connect(tmp_path / "index.sqlite")
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    for statement in MIGRATIONS[0].statements:
        conn.execute(statement)
    conn.execute("INSERT INTO _migrations VALUES (?, 0)", (MIGRATIONS[0].name,))
    # The old index claims the whole segment.
    conn.execute("INSERT INTO segments VALUES (?, ?, 1)", (path.name, path.stat().st_size))
    conn.commit()
    conn.close()
    store = FileStore(tmp_path)
    assert [t.info.name for t in store.search_traces()] == ["chat"]
    names = [row[0] for row in store._connect().execute("SELECT name FROM _migrations")]
    assert names == [m.name for m in MIGRATIONS]


@pytest.mark.parametrize("enabled", [True, False])
def test_indexing_leaves_the_garbage_collector_as_it_was(tmp_path: Path, enabled: bool) -> None:
    append(tmp_path, line([span(tid(1), sid(1), "a")]))
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        FileStore(tmp_path).update_index()
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


@pytest.mark.parametrize(("filter_string", "expected"), CASES)
@pytest.mark.parametrize("backend", ["file"], indirect=True)
def test_every_filter_gives_the_same_traces_when_sets_and_text_are_walked(
    sample_store: FileStore,
    monkeypatch: pytest.MonkeyPatch,
    filter_string: str,
    expected: set[int],
) -> None:
    # Probe limits of 1: every IN set counts as large (the traces drive the query) and
    # every text pattern as common (the traces are walked); the defaults take the other
    # plans on this small store (test_filters.py).
    monkeypatch.setattr(dialect, "SET_PROBE_ROWS", 1)
    monkeypatch.setattr(dialect, "TEXT_PROBE_ROWS", 1)
    assert _ids(sample_store.search_traces(filter_string)) == expected


def test_each_span_keeps_its_own_resource_and_scope(tmp_path: Path) -> None:
    first = request([span(tid(1), sid(1), "a")], service="alpha")
    second = request([span(tid(1), sid(2), "b", parent=sid(1), start_ms=1)], service="beta")
    first["resourceSpans"] += second["resourceSpans"]
    first["resourceSpans"][1]["scopeSpans"][0]["scope"] = {"name": "other"}
    append(tmp_path, json.dumps(first) + "\n")
    append(tmp_path, line([span(tid(2), sid(3), "c")], service="gamma"))
    store = FileStore(tmp_path)
    spans = store.get_trace(tid(1)).spans
    assert [(s.name, s.service_name, s.scope) for s in spans] == [
        ("a", "alpha", {"name": "test", "version": "1"}),
        ("b", "beta", {"name": "other", "version": ""}),
    ]
    assert store.get_trace(tid(2)).spans[0].service_name == "gamma"


def _index_names(store: FileStore) -> set[str]:
    rows = store._connect().execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row[0] for row in rows}


@pytest.mark.parametrize("backend", ["file"], indirect=True)
def test_bulk_load_builds_secondary_indexes_at_the_end(
    sample_store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = [t.to_dict() for t in sample_store.search_traces("span.type = 'LLM'")]
    indexes = _index_names(sample_store)
    assert set(bulk.DEFERRABLE) <= indexes
    monkeypatch.setattr(bulk, "BULK_BYTES", 1)
    dropped: list[set[str]] = []
    real_chunk = indexer._index_chunk

    def chunk(*args: Any) -> bool:
        dropped.append(set(bulk.DEFERRABLE) - _index_names(sample_store))
        return real_chunk(*args)

    monkeypatch.setattr(indexer, "_index_chunk", chunk)
    sample_store.reindex()
    assert dropped and dropped[0] == set(bulk.DEFERRABLE)  # loaded without them
    assert _index_names(sample_store) == indexes
    assert [t.to_dict() for t in sample_store.search_traces("span.type = 'LLM'")] == before
    # Not a bulk load: the index is no longer empty.
    dropped.clear()
    append(sample_store.path, line([span(tid(9), sid(90), "late", start_ms=9000)]))
    assert len(sample_store.search_traces()) == 6
    assert dropped == [set()]


def test_interrupted_bulk_load_gets_its_indexes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(tmp_path, line([span(tid(1), sid(1), "a")]))
    append(tmp_path, line([span(tid(2), sid(2), "b")]), segment=2)
    monkeypatch.setattr(bulk, "BULK_BYTES", 1)
    real_chunk = indexer._index_chunk
    calls = 0

    def chunk(*args: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        return real_chunk(*args)

    monkeypatch.setattr(indexer, "_index_chunk", chunk)
    store = FileStore(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        store.update_index()
    assert set(bulk.DEFERRABLE) <= _index_names(store)  # restored on the way out
    # A crash leaves them listed as deferred: the next update recreates them.
    conn = store._connect()
    conn.execute("DROP INDEX traces_start")
    conn.execute(
        "INSERT INTO _deferred_indexes VALUES ('traces_start', "
        "'CREATE INDEX traces_start ON traces (start_ms)')"
    )
    assert [t.info.name for t in store.search_traces()] == ["b", "a"]
    assert "traces_start" in _index_names(store)
