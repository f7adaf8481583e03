"""Reading a store: contents, incremental reads, duplicates, other writers' forms (every kind
of store); torn and corrupt lines, reindex (the file store's index)."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from pathlib import Path

import pytest

from otelfeedback.errors import InvalidArgumentError, NotFoundError
from otelfeedback.store import FileStore
from otelfeedback.store.schema import MIGRATIONS
from tests.store.conftest import Backend
from tests.store.otlp_fixtures import append, io_attrs, line, sid, span, tid

FILE_ONLY = pytest.mark.parametrize("backend", ["file"], indirect=True)


def test_get_trace_returns_info_spans_and_assessments(sample_store: FileStore) -> None:
    trace = sample_store.get_trace(tid(1))
    info = trace.info
    assert info.name == "chat"
    assert info.root_span_id == sid(1)
    assert info.service_name == "svc"
    assert info.status == "OK"
    assert info.execution_time_ms == 100
    assert info.tags == {"env": "prod", "version": "3"}
    assert info.metadata == {"tier": "gold"}
    assert info.session_id == "s1"
    assert (info.input_tokens, info.output_tokens, info.total_tokens) == (100, 20, 120)
    assert info.request_preview == "How do refunds work?"  # the question, not the JSON
    assert info.response_preview == "Refunds take 5 days"
    assert [s.name for s in trace.spans] == ["chat", "retrieve", "llm"]
    root = trace.root_span
    assert root is not None and root.inputs == {"question": "How do refunds work?"}
    assert trace.spans[1].span_type == "RETRIEVER"
    assert trace.spans[1].parent_id == sid(1)
    assert trace.spans[1].outputs == ["doc1"]
    assert trace.spans[1].attributes["retriever.k"] == 5
    # The override chain: the old thumbs-down stays, invalid; the new one points at it.
    old, new = trace.assessments
    assert (old.value, old.valid) == (False, False)
    assert (new.value, new.valid, new.overrides) == (True, True, old.assessment_id)
    assert [a.value for a in trace.search_assessments("user_feedback")] == [True]
    # Carrier spans are records, not spans of the trace.
    assert info.span_count == 3


def test_trace_round_trips_through_json(sample_store: FileStore) -> None:
    from otelfeedback.store import Trace

    trace = sample_store.get_trace(tid(2))
    again = Trace.from_dict(json.loads(trace.to_json()))
    assert again.to_dict() == trace.to_dict()
    assert again.info.status == "ERROR"


def test_unknown_trace_raises_not_found(sample_store: FileStore) -> None:
    with pytest.raises(NotFoundError, match=tid(99)):
        sample_store.get_trace(tid(99))


def test_a_url_is_refused_rather_than_made_a_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError, match=r"postgresql://\.\.\. is a URL.*SqlStore"):
        FileStore("postgresql://team@db.internal/traces")
    assert list(tmp_path.iterdir()) == []  # no "postgresql:" directory left behind


def test_reads_pick_up_appended_lines_incrementally(backend: Backend) -> None:
    backend.write(line([span(tid(1), sid(1), "a")]))
    store = backend.store()
    assert len(store.search_traces()) == 1
    backend.write(line([span(tid(2), sid(2), "b", start_ms=5)]))
    backend.write(line([span(tid(3), sid(3), "c", start_ms=9)]), segment=2)
    assert [t.info.name for t in store.search_traces()] == ["c", "b", "a"]
    # A trace whose spans arrive in several lines is summarized over all of them.
    backend.write(
        line(
            [
                span(
                    tid(1),
                    sid(4),
                    "child",
                    parent=sid(1),
                    start_ms=1,
                    attrs=io_attrs("LLM", None, None, **{"gen_ai.usage.input_tokens": 3}),
                )
            ]
        ),
    )
    info = store.get_trace(tid(1)).info
    assert (info.span_count, info.input_tokens, info.name) == (2, 3, "a")


def test_torn_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    full = line([span(tid(1), sid(1), "a")])
    torn = line([span(tid(2), sid(2), "b")])
    path = append(tmp_path, full + torn[:40])
    store = FileStore(tmp_path)
    assert [t.info.name for t in store.search_traces()] == ["a"]
    with open(path, "a") as handle:  # the writer finishes its line
        handle.write(torn[40:])
    assert {t.info.name for t in store.search_traces()} == {"a", "b"}


def test_corrupt_line_is_skipped_with_a_warning_naming_file_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    append(tmp_path, line([span(tid(1), sid(1), "a")]))
    path = append(tmp_path, '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 1}]}]}]}\n')
    append(tmp_path, "not json at all\n")
    append(tmp_path, line([span(tid(2), sid(2), "b")]))
    with caplog.at_level(logging.WARNING, logger="otelfeedback.store"):
        stats = FileStore(tmp_path).update_index()
    assert stats.skipped_lines == 2
    assert {t.info.name for t in FileStore(tmp_path).search_traces()} == {"a", "b"}
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"line 2 of {path}" in m for m in messages)
    assert any(f"line 3 of {path}" in m for m in messages)


@FILE_ONLY
def test_reindex_rebuilds_the_same_index(sample_store: FileStore) -> None:
    before = [t.to_dict() for t in sample_store.search_traces()]
    stats = sample_store.reindex()
    assert stats.spans == 8 and stats.records == 6
    assert [t.to_dict() for t in sample_store.search_traces()] == before


@FILE_ONLY
def test_deleted_index_is_rebuilt_from_segments(sample_store: FileStore) -> None:
    before = sample_store.get_trace(tid(1)).to_dict()
    sample_store.close()
    (sample_store.path / "index.sqlite").unlink()
    assert FileStore(sample_store.path).get_trace(tid(1)).to_dict() == before


def test_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    FileStore(tmp_path).update_index()
    FileStore(tmp_path).update_index()
    conn = sqlite3.connect(tmp_path / "index.sqlite")
    names = [row[0] for row in conn.execute("SELECT name FROM _migrations")]
    assert names == [m.name for m in MIGRATIONS]


def test_spans_exported_twice_are_stored_once(backend: Backend) -> None:
    text = line([span(tid(1), sid(1), "a", attrs=io_attrs("CHAIN", "find me", None))])
    backend.write(text + text)
    store = backend.store()
    assert store.get_trace(tid(1)).info.span_count == 1
    assert len(store.search_traces("trace.text LIKE '%find me%'")) == 1


def test_decoder_accepts_other_writers_forms(backend: Backend) -> None:
    """snake_case names, base64 ids, int64 as numbers, enum names, every AnyValue kind."""
    b64 = lambda hexid: base64.b64encode(bytes.fromhex(hexid)).decode()  # noqa: E731
    request = {
        "resource_spans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"string_value": "go"}}]
                },
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": b64(tid(7)),
                                "span_id": b64(sid(7)),
                                "name": "remote",
                                "kind": "SPAN_KIND_SERVER",
                                "start_time_unix_nano": 1_700_000_000_000_000_000,
                                "end_time_unix_nano": 1_700_000_000_500_000_000,
                                "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
                                "attributes": [
                                    {"key": "n", "value": {"int_value": 3}},
                                    {"key": "d", "value": {"doubleValue": "NaN"}},
                                    {"key": "b", "value": {"bytesValue": "aGk="}},
                                    {
                                        "key": "kv",
                                        "value": {
                                            "kvlistValue": {
                                                "values": [
                                                    {"key": "x", "value": {"boolValue": True}}
                                                ]
                                            }
                                        },
                                    },
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    backend.write(json.dumps(request) + "\n")
    trace = backend.store().get_trace(tid(7))
    (only,) = trace.spans
    assert (only.name, only.status, only.status_message, only.kind) == (
        "remote",
        "ERROR",
        "boom",
        2,
    )
    assert only.attributes["n"] == 3 and only.attributes["kv"] == {"x": True}
    assert only.attributes["b"] == "aGk="
    assert trace.info.execution_time_ms == 500
    assert trace.info.service_name == "go"


def test_root_from_elsewhere_is_earliest_span_with_unknown_parent(backend: Backend) -> None:
    backend.write(
        line(
            [
                span(tid(1), sid(2), "late", parent=sid(99), start_ms=5),
                span(tid(1), sid(3), "first", parent=sid(98), start_ms=1),
                span(tid(1), sid(4), "child", parent=sid(3), start_ms=2),
            ]
        ),
    )
    info = backend.store().get_trace(tid(1)).info
    assert (info.root_span_id, info.name) == (sid(3), "first")


def test_assessment_names_come_from_the_index_including_an_old_rare_one(
    backend: Backend,
) -> None:
    from otelfeedback import delete_assessment, log_feedback
    from otelfeedback.api.assessments import writing_to

    backend.write(line([span(tid(n), sid(n), f"t{n}", start_ms=n) for n in range(1, 601)]))
    store = backend.store()
    assert store.assessment_names() == []
    with writing_to(store):
        old = log_feedback(tid(1), "rare_name", 1)  # the oldest of 600 traces
        log_feedback(tid(600), "common", True)
        log_feedback(tid(599), "common", False)
    assert sorted(store.assessment_names()) == [
        ("feedback", "common"),
        ("feedback", "rare_name"),
    ]
    with writing_to(store):
        delete_assessment(tid(1), old.assessment_id)
    assert store.assessment_names() == [("feedback", "common")]


def test_a_new_index_has_8_kib_pages(tmp_path: Path) -> None:
    append(tmp_path, line([span(tid(1), sid(1), "x")]))
    with FileStore(tmp_path) as store:
        store.search_traces()
    import sqlite3

    conn = sqlite3.connect(tmp_path / "index.sqlite")
    try:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 8192
    finally:
        conn.close()
