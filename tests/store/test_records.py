"""The records store: versions, conflicts, edge values, history, snapshots and four processes
appending at once (every kind of store); reindex and corrupt lines (the file store)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from otelfeedback.errors import ConflictError, InvalidArgumentError, NotFoundError
from otelfeedback.store import FileStore
from otelfeedback.store.records import MAX_DEPTH, Record, RecordWrite
from tests.store.conftest import Backend

FILE_ONLY = pytest.mark.parametrize("backend", ["file"], indirect=True)

EDGE_VALUES: dict[str, Any] = {
    "big": 2**64 + 1,
    "negative_big": -(10**40),
    "lone_surrogate": "a\ud800b",
    "empty": "",
    "empty_key": {"": [], "x": {}},
    "unicode": "café ☕ 𝄞",
    "float": 0.1,
    "large": "x" * 10_000_000,
    "deep": {"a": [[[{"b": [1]}]]]},
}


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.fixture
def store(backend: Backend) -> Any:
    return backend.store()


def test_versions_count_up_and_every_version_stays_readable(store: Any) -> None:
    first = store.append_record("dataset", "d-1", {"name": "golden"}, author="alice")
    second = store.append_record("dataset", "d-1", {"name": "golden", "n": 2}, author="bob")
    assert (first.version, second.version) == (1, 2)
    assert second.sequence > first.sequence
    assert (second.created_by, second.updated_by) == ("alice", "bob")
    assert second.created_time_ms == first.created_time_ms <= second.updated_time_ms
    assert store.get_record("dataset", "d-1") == second
    assert store.get_record("dataset", "d-1", version=1) == first
    assert store.record_history("dataset", "d-1") == [first, second]
    assert store.list_records("dataset") == [second]


def test_an_unexpected_version_is_a_conflict_and_writes_nothing(store: Any) -> None:
    store.append_record("dataset", "d-1", {"n": 1})
    with pytest.raises(ConflictError) as info:
        store.append_records(
            [
                RecordWrite("item", "i-1", {"fine": True}),
                RecordWrite("dataset", "d-1", {"n": 2}, expected_version=0),
            ]
        )
    assert (info.value.kind, info.value.record_id) == ("dataset", "d-1")
    assert (info.value.expected_version, info.value.actual_version) == (0, 1)
    assert store.list_records("item") == []  # the batch is all or nothing
    assert store.append_record("dataset", "d-1", {"n": 2}, expected_version=1).version == 2


def test_expected_version_zero_creates_once(store: Any) -> None:
    store.append_record("name", "n-golden", {"id": "d-1"}, expected_version=0)
    with pytest.raises(ConflictError):
        store.append_record("name", "n-golden", {"id": "d-2"}, expected_version=0)


def test_delete_keeps_history_and_a_new_life_starts_over(store: Any) -> None:
    store.append_record("dataset", "d-1", {"n": 1}, author="alice")
    tombstone = store.delete_record("dataset", "d-1", author="bob")
    assert tombstone.deleted and tombstone.data == {} and tombstone.version == 2
    with pytest.raises(NotFoundError):
        store.get_record("dataset", "d-1")
    assert store.get_record("dataset", "d-1", version=1).data == {"n": 1}
    assert store.list_records("dataset") == []
    assert store.list_records("dataset", include_deleted=True) == [tombstone]
    with pytest.raises(NotFoundError):
        store.delete_record("dataset", "d-1")
    again = store.append_record("dataset", "d-1", {"n": 3}, author="carol")
    assert (again.version, again.created_by) == (3, "carol")


def test_listing_as_of_a_sequence_is_a_snapshot(store: Any) -> None:
    a1 = store.append_record("item", "a", {"v": 1}, parent="p")
    store.append_record("item", "b", {"v": 1}, parent="p")
    snapshot = store.list_records("item", parent="p")[-1].sequence
    store.append_record("item", "a", {"v": 2}, parent="p")
    store.delete_record("item", "b")
    store.append_record("item", "c", {"v": 1}, parent="p")
    store.append_record("item", "z", {"v": 1}, parent="q")
    then = store.list_records("item", parent="p", as_of=snapshot)
    assert [(r.id, r.data) for r in then] == [("a", {"v": 1}), ("b", {"v": 1})]
    assert then[0] == a1
    now = store.list_records("item", parent="p")
    assert [(r.id, r.data) for r in now] == [("a", {"v": 2}), ("c", {"v": 1})]
    assert [r.id for r in store.list_records("item")] == ["a", "c", "z"]
    assert store.list_records("item", as_of=0) == []


def test_changed_after_lists_only_what_came_after_a_sequence(store: Any) -> None:
    first = store.append_record("item", "a", {"n": 1}, parent="p")
    store.append_record("item", "b", {"n": 1}, parent="p")
    store.append_record("item", "elsewhere", {"n": 1}, parent="q")
    mark = store.list_records_page("item")[1]
    assert store.list_records("item", parent="p", changed_after=mark) == []
    updated = store.append_record("item", "a", {"n": 2}, parent="p")
    gone = store.delete_record("item", "b")
    assert store.list_records("item", parent="p", changed_after=mark) == [updated]
    assert store.list_records("item", parent="p", changed_after=mark, include_deleted=True) == [
        updated,
        gone,
    ]
    assert store.list_records("item", parent="p", changed_after=first.sequence - 1) == [updated]
    with pytest.raises(InvalidArgumentError, match="changed_after"):
        store.list_records("item", changed_after=-1)


def test_one_record_twice_in_a_batch_makes_two_versions(store: Any) -> None:
    store.append_record("item", "a", {"v": 0}, parent="p")
    first, second = store.append_records(
        [RecordWrite("item", "a", {"v": 1}, "p"), RecordWrite("item", "a", {"v": 2}, "p")]
    )
    assert (first.version, second.version) == (2, 3)
    for _ in range(2):  # as written, then as rebuilt from the lines
        assert [r.data for r in store.list_records("item", parent="p")] == [{"v": 2}]
        assert store.list_records("item", as_of=first.sequence) == [first]
        assert [r.version for r in store.record_history("item", "a")] == [1, 2, 3]
        if isinstance(store, FileStore):
            store.reindex()


def test_a_record_keeps_its_parent_while_it_lives(store: Any) -> None:
    store.append_record("item", "a", {}, parent="p")
    with pytest.raises(InvalidArgumentError, match="belongs to 'p'") as info:
        store.append_record("item", "a", {}, parent="q")
    assert info.value.argument == "records[0].parent"


def test_edge_values_round_trip_exactly(store: Any, backend: Backend) -> None:
    stored = store.append_record("edge", "e", EDGE_VALUES)
    assert stored.data == EDGE_VALUES
    assert store.get_record("edge", "e").data == EDGE_VALUES
    store.append_record("edge", "deep", deep(MAX_DEPTH))
    assert backend.open().get_record("edge", "e").data == EDGE_VALUES  # read back anew
    if backend.kind != "file":
        return
    store.reindex()
    assert store.get_record("edge", "e").data == EDGE_VALUES
    assert store.get_record("edge", "deep").data == deep(MAX_DEPTH)
    assert store.get_record("edge", "e").data["lone_surrogate"] == "a\ud800b"
    # every line is valid UTF-8 JSON, readable by any parser
    for raw in (store.records_dir / "segment-000001.jsonl").read_bytes().splitlines():
        json.loads(raw.decode("utf-8"))


@pytest.mark.parametrize(
    ("data", "argument", "message"),
    [
        ({"x": float("nan")}, "records[0].data.x", "NaN and ±Infinity"),
        ({"x": [1, {"y z": float("-inf")}]}, 'records[0].data.x[1]["y z"]', "not a JSON number"),
        ({"x": {1: "a"}}, "records[0].data.x", "keys must be strings"),
        ({"x": {1, 2}}, "records[0].data.x", "got set"),
        ({"x": 2**13_001}, "records[0].data.x", "more than 13,000 bits"),
        (deep(MAX_DEPTH + 1), "records[0].data" + ".a" * MAX_DEPTH, "deeper than"),
        (deep(10_000), "records[0].data" + ".a" * MAX_DEPTH, "deeper than"),
        (["not", "an", "object"], "records[0].data", "expected a JSON object"),
    ],
)
def test_bad_data_is_an_argument_error_naming_the_value(
    store: Any, data: Any, argument: str, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as info:
        store.append_record("edge", "e", data)
    assert info.value.argument == argument
    assert store.list_records("edge") == []
    if isinstance(store, FileStore):
        assert not store.records_dir.exists() or not any(store.records_dir.glob("*.jsonl"))


@pytest.mark.parametrize(
    ("write", "argument"),
    [
        (RecordWrite("Dataset", "d", {}), "records[0].kind"),
        (RecordWrite("", "d", {}), "records[0].kind"),
        (RecordWrite("dataset", "", {}), "records[0].id"),
        (RecordWrite("dataset", "a/b", {}), "records[0].id"),
        (RecordWrite("dataset", "x" * 201, {}), "records[0].id"),
        (RecordWrite("dataset", "d", {}, parent="../p"), "records[0].parent"),
        (RecordWrite("dataset", "d", {}, expected_version=-1), "records[0].expected_version"),
        (RecordWrite("dataset", "d", {}, expected_version=True), "records[0].expected_version"),
    ],
)
def test_malformed_writes_name_the_field(store: Any, write: RecordWrite, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        store.append_records([write])
    assert info.value.argument == argument


def test_malformed_calls_are_argument_errors(store: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="at least one"):
        store.append_records([])
    with pytest.raises(InvalidArgumentError, match="RecordWrite"):
        store.append_records([{"kind": "a", "id": "b"}])  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentError) as info:
        store.append_record("a", "b", {}, author=7)  # type: ignore[arg-type]
    assert info.value.argument == "author"
    for bad in (0, -1, "1", True, 2**64):
        with pytest.raises(InvalidArgumentError):
            store.get_record("a", "b", version=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        store.list_records("a", as_of=-1)
    with pytest.raises(NotFoundError):
        store.get_record("a", "b")


@FILE_ONLY
def test_reindex_rebuilds_the_records_and_a_deleted_index_comes_back(
    store: Any, tmp_path: Path
) -> None:
    store.append_records([RecordWrite("item", f"i{n}", {"n": n}) for n in range(50)])
    store.append_record("item", "i7", {"n": "seven"})
    store.delete_record("item", "i8")
    before = store.list_records("item", include_deleted=True)
    history = store.record_history("item", "i7")
    stats = store.reindex()
    assert (stats.record_lines, stats.stored_records) == (3, 52)
    assert store.list_records("item", include_deleted=True) == before
    store.close()
    (store.path / "index.sqlite").unlink()
    reopened = FileStore(store.path)
    assert reopened.record_history("item", "i7") == history
    assert reopened.append_record("item", "i9", {}).sequence == 53


@FILE_ONLY
def test_a_corrupt_or_torn_line_is_skipped_and_reported(
    store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store.append_record("item", "a", {"n": 1})
    segment = store.records_dir / "segment-000001.jsonl"
    with open(segment, "ab") as handle:
        handle.write(b'{"records": [{"kind": "item", "id": "b", "version": "x"}]}\n')
        handle.write(b"not json\n")
        handle.write(b'{"records":[{"kind":"item","id":"c","version":1')  # torn: writer died
    with caplog.at_level(logging.WARNING, logger="otelfeedback.store"):
        stats = store.reindex()
        store.append_record("item", "d", {"n": 4})
        assert [r.id for r in store.list_records("item")] == ["a", "d"]
    assert stats.skipped_lines == 2
    skipped = [r.getMessage() for r in caplog.records if "skipping corrupt record" in r.message]
    assert any("line 2 of" in m for m in skipped) and any("line 3 of" in m for m in skipped)
    assert any("line 4 of" in m for m in skipped)  # the torn line, closed by the next write
    assert store.reindex().skipped_lines == 3


@FILE_ONLY
def test_a_line_whose_versions_clash_is_skipped_as_a_whole(
    store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stored = store.append_record("item", "a", {"n": 1})
    clash = Record("item", "a", 1, 99, {"n": "other"})
    fresh = Record("item", "b", 1, 100, {"n": 2})
    line = {"records": [fresh.to_dict(), clash.to_dict()]}
    with open(store.records_dir / "segment-000001.jsonl", "a") as handle:
        handle.write(json.dumps(line) + "\n")
    with caplog.at_level(logging.WARNING, logger="otelfeedback.store"):
        assert store.list_records("item") == [stored]
    assert "clash" in caplog.text


def test_reads_of_a_store_that_does_not_exist_create_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "nothing-here")
    assert store.list_records("dataset") == []
    assert store.record_history("dataset", "d-1") == []
    with pytest.raises(NotFoundError):
        store.get_record("dataset", "d-1")
    assert not (tmp_path / "nothing-here").exists()


def test_another_process_sees_what_one_appends(store: Any, backend: Backend) -> None:
    other = backend.open()
    store.append_record("item", "a", {"n": 1})
    assert other.get_record("item", "a").data == {"n": 1}
    other.append_record("item", "a", {"n": 2}, expected_version=1)
    assert store.get_record("item", "a").version == 2


APPENDER = textwrap.dedent("""
    import sys
    from otelfeedback.errors import ConflictError
    from otelfeedback.store.records import RecordWrite
    from tests.store.conftest import open_store
    store = open_store(sys.argv[1])
    worker, count = sys.argv[2], int(sys.argv[3])
    for i in range(count):
        store.append_records([
            RecordWrite("item", f"w{worker}-{i}", {"worker": worker, "i": i}),
            RecordWrite("item", "shared", {"worker": worker, "i": i}),
        ], author=f"worker-{worker}")
        while True:  # a counter bumped with expected versions: retried on conflict
            try:
                current = store.get_record("counter", "c").version
            except Exception:
                current = 0
            try:
                store.append_record("counter", "c", {"by": worker}, expected_version=current)
                break
            except ConflictError:
                pass
""")


def test_four_processes_appending_at_once_lose_nothing(backend: Backend) -> None:
    per_worker = 40
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(backend.location), str(w), str(per_worker)],
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[2],
        )
        for w in range(4)
    ]
    for process in processes:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
    store = backend.open()
    own = [r for r in store.list_records("item") if r.id != "shared"]
    assert len(own) == 4 * per_worker
    shared = store.record_history("item", "shared")
    assert [r.version for r in shared] == list(range(1, 4 * per_worker + 1))
    assert sorted((r.data["worker"], r.data["i"]) for r in shared) == sorted(
        (str(w), i) for w in range(4) for i in range(per_worker)
    )
    counter = store.record_history("counter", "c")
    assert [r.version for r in counter] == list(range(1, 4 * per_worker + 1))
    everything = [*own, *shared, *counter]
    assert len({r.sequence for r in everything}) == len(everything)
    if isinstance(store, FileStore):
        store.reindex()
        assert store.record_history("item", "shared") == shared


def test_an_index_from_before_0006_is_upgraded_and_records_read_again(tmp_path: Path) -> None:
    import sqlite3

    store = FileStore(tmp_path / "store")
    store.append_record("item", "a", {"v": 1}, parent="p")
    second = store.append_record("item", "a", {"v": 2}, parent="p")
    store.close()
    # the index as the 0005 migration left it: no next_seq, the old indexes
    conn = sqlite3.connect(store.path / "index.sqlite", isolation_level=None)
    conn.execute("DELETE FROM _migrations WHERE name = '0006_record_snapshots'")
    conn.execute("DROP INDEX records_parent")
    conn.execute("ALTER TABLE records DROP COLUMN next_seq")
    conn.execute("CREATE INDEX records_id ON records (kind, id, seq)")
    conn.execute("CREATE INDEX records_parent ON records (kind, parent, id, seq)")
    conn.close()
    reopened = FileStore(store.path)
    assert reopened.list_records("item", parent="p") == [second]
    assert [r.version for r in reopened.record_history("item", "a")] == [1, 2]
