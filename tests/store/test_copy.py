"""``otelfeedback store copy``: a file store into PostgreSQL and back, losslessly, resuming
after a stop; ``store migrate`` and ``store prune`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback.assessments.wire import AssessmentRecord
from otelfeedback.cli import main
from otelfeedback.errors import NotFoundError
from otelfeedback.store import FileStore
from otelfeedback.store.sql import SqlStore, transfer
from tests.store.test_records import EDGE_VALUES

pytestmark = pytest.mark.postgres

FILTERS = [
    "",
    "feedback.user_feedback = false",
    "feedback.user_feedback IS NOT NULL",
    "span.type = 'RETRIEVER'",
    "trace.text LIKE '%refund%'",
    "tags.env = 'prod'",
    "expectation.expected_response IS NOT NULL",
]


def fill(directory: Path) -> None:
    """A file store as an app leaves it: traces with assessments logged both while the span
    records (a span event) and later (carrier spans), overrides, deletions, and records."""
    otelfeedback.configure(store=directory, service_name="copy-app")

    @otelfeedback.trace(span_type="RETRIEVER")
    def retrieve(query: str) -> list[str]:
        return ["refund policy", "shipping"]

    @otelfeedback.trace
    def answer(question: str, n: int) -> str:
        otelfeedback.update_current_trace(tags={"env": "prod" if n % 2 else "dev"})
        retrieve(question)
        if n == 3:  # while the span records: an event on it
            trace_id = otelfeedback.get_current_trace_id()
            assert trace_id is not None
            otelfeedback.log_feedback(trace_id, "in_flight", 0.5)
        return f"answer {n}: refund in 5 days"

    ids = []
    for n in range(12):
        answer(f"question {n} about refunds", n)
        ids.append(otelfeedback.get_last_active_trace_id())
    first = otelfeedback.log_feedback(ids[0], "user_feedback", False, rationale="wrong\x00")
    otelfeedback.override_feedback(ids[0], first.assessment_id, True)
    gone = otelfeedback.log_feedback(ids[1], "user_feedback", False)
    otelfeedback.delete_assessment(ids[1], gone.assessment_id)
    otelfeedback.log_feedback(ids[2], "user_feedback", False)
    otelfeedback.log_expectation(ids[4], "expected_response", {"text": "5 days"})
    otelfeedback.flush()
    otelfeedback.reset()
    store = FileStore(directory)
    store.append_assessment(ORPHAN, None)  # about a trace the store never received
    store.append_record("dataset", "d-1", {"name": "golden"}, author="alice")
    store.append_record("dataset", "d-1", {"name": "golden", "n": 2}, author="bob")
    store.append_record("edge", "e", {k: v for k, v in EDGE_VALUES.items() if k != "large"})
    store.append_record("item", "i-1", {"x": 1}, parent="d-1")
    store.delete_record("item", "i-1")
    store.close()


ORPHAN = AssessmentRecord(
    "create",
    {
        "assessment_id": "a-" + "0" * 32,
        "trace_id": "f" * 32,
        "name": "orphan",
        "kind": "feedback",
        "value": True,
        "source_type": "CODE",
        "source_id": "job",
        "create_time_ms": 1_700_000_000_000,
        "last_update_time_ms": 1_700_000_000_000,
    },
    1_700_000_000_000_000_000,
)


def snapshot(store: Any) -> dict[str, Any]:
    """Everything a user reads from a store."""
    traces = store.search_traces(max_results=None)
    return {
        "orphan": store.get_assessment("f" * 32, "a-" + "0" * 32).to_dict(),
        "traces": {t.trace_id: t.to_dict() for t in traces},
        "filters": {f: sorted(t.trace_id for t in store.search_traces(f)) for f in FILTERS},
        "names": sorted(store.assessment_names()),
        "records": {
            kind: [
                (r.id, store.record_history(kind, r.id))
                for r in store.list_records(kind, include_deleted=True)
            ]
            for kind in ("dataset", "edge", "item")
        },
    }


def snapshot_or_none(store: Any) -> dict[str, Any] | None:
    try:
        return snapshot(store)
    except NotFoundError:  # the orphan assessment is not there yet
        return None


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_a_file_store_moves_into_postgresql_and_back_losslessly(
    tmp_path: Path, postgres_empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path / "files")
    before = snapshot(FileStore(tmp_path / "files"))
    assert before["filters"]["feedback.user_feedback = false"]  # the data is all there
    assert ("feedback", "in_flight") in before["names"]
    # Into a new, empty database (as created with createdb): migrated by the copy.
    status, out, err = run(capsys, "store", "copy", str(tmp_path / "files"), postgres_empty_url)
    assert status == 0, err
    assert "copied" in out and "spans:" in err and "(100%)" in err
    with SqlStore(postgres_empty_url) as database:
        assert snapshot(database) == before
    status, out, err = run(capsys, "store", "copy", postgres_empty_url, str(tmp_path / "back"))
    assert status == 0, err
    assert snapshot(FileStore(tmp_path / "back")) == before
    # Again into a second database from the copy: the same.
    assert (
        run(capsys, "store", "copy", "--json", str(tmp_path / "back"), postgres_empty_url)[0] == 0
    )


def test_a_stopped_copy_resumes_without_duplicates(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(tmp_path / "files")
    before = snapshot(FileStore(tmp_path / "files"))
    monkeypatch.setattr(transfer, "BATCH_SPANS", 4)
    calls = []

    def stop_after_three(what: str, done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    source = FileStore(tmp_path / "files")
    with SqlStore(postgres_url) as database:
        with pytest.raises(KeyboardInterrupt):
            transfer.copy_store(source, database, stop_after_three)
        assert database.search_traces(max_results=None)  # part of it is there
        assert snapshot_or_none(database) != before
        stats = transfer.copy_store(source, database)
        assert stats.resumed
        assert snapshot(database) == before
        again = transfer.copy_store(source, database)  # done: copies nothing new
        assert (again.spans, again.records) == (0, 0)
        back = FileStore(tmp_path / "back")
        with pytest.raises(KeyboardInterrupt):
            calls.clear()
            transfer.copy_store(database, back, stop_after_three)
        transfer.copy_store(database, back)
        assert snapshot(back) == before


def test_migrate_and_prune_on_the_command_line(
    postgres_empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys, "store", "migrate", "--store", postgres_empty_url, "--partition-traces", "50"
    )
    assert (status, out.strip()) == (
        0,
        "schema version 0 -> 4 (0001_initial, 0002_ingest_queue, 0003_summary_indexes, "
        "0004_queue_uncompressed)",
    )
    status, out, _ = run(capsys, "store", "migrate", "--json", "--store", postgres_empty_url)
    assert json.loads(out) == {"from_version": 4, "to_version": 4, "applied": []}
    status, out, _ = run(
        capsys, "store", "prune", "--store", postgres_empty_url, "--older-than", "30d"
    )
    assert status == 0 and out.startswith("deleted 0 traces")
    status, _, err = run(capsys, "store", "prune", "--store", str(tmp_path), "--older-than", "1d")
    assert status == 2 and "needs a PostgreSQL store" in err
    status, _, err = run(
        capsys, "store", "prune", "--store", postgres_empty_url, "--older-than", "soon"
    )
    assert status == 2 and "expected a duration" in err
    status, _, err = run(capsys, "store", "copy", str(tmp_path), str(tmp_path / "x"))
    assert status == 2 and "copy the directory" in err
    status, out, _ = run(capsys, "traces", "search", "--json", "--store", postgres_empty_url)
    assert status == 0
