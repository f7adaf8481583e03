"""Datasets through the public API on a file store: traces to records, merge rules, versions
that never change, lineage, diff, deleting, and what evaluate() will read."""

from __future__ import annotations

from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.assessments import Expectation
from otelfeedback.datasets import (
    Dataset,
    create_dataset,
    delete_dataset,
    get_dataset,
    list_datasets,
)
from otelfeedback.errors import NotFoundError
from tests.datasets.conftest import QUESTIONS, Traced


def by_question(ds: Dataset) -> dict[str, object]:
    return {r.inputs["question"]: r for r in ds.records}


def test_labeled_traces_become_a_versioned_dataset(traced: Traced) -> None:
    ds = create_dataset("golden", tags={"team": "support"}, description="expert-reviewed")
    assert (ds.version, ds.records, ds.record_count) == (0, [], 0)
    traces = otelfeedback.search_traces(max_results=None)
    assert ds.merge_records(traces) is ds
    assert (ds.version, ds.record_count) == (1, 3)
    records = by_question(ds)
    first = records[QUESTIONS[0]]
    assert first.inputs == {"question": QUESTIONS[0]}
    assert first.outputs == "Here is what I know about what is mlflow."
    assert first.expectations == {
        "expected_response": "MLflow is an open-source platform for the ML lifecycle.",
        "expected_facts": ["open source"],
    }
    assert first.source == {"source_type": "TRACE", "source_id": traced.trace_ids[0]}
    assert (first.added_in, first.changed_in) == (1, 1)
    assert records[QUESTIONS[1]].expectations == {}  # feedback is not an expectation
    # what evaluate(data=ds) reads: the name, the exact version, inputs/outputs/expectations
    assert (ds.name, ds.version) == ("golden", 1)
    assert ds.url_path == f"/datasets/{ds.dataset_id}?version=1"
    assert get_dataset("golden").tags == {"team": "support"}
    assert get_dataset(ds.dataset_id).description == "expert-reviewed"


def test_only_valid_expectations_are_taken_from_a_trace(traced: Traced) -> None:
    trace = otelfeedback.get_trace(traced.trace_ids[2])
    trace.info.assessments.append(
        Expectation(name="expected_response", value="stale", valid=False, trace_id=trace.trace_id)
    )
    ds = create_dataset("valid-only").merge_records([trace])
    assert ds.records[0].expectations == {}


def test_traces_without_spans_are_loaded_from_the_store(traced: Traced) -> None:
    infos = otelfeedback.search_traces(max_results=None, include_spans=False)
    ds = create_dataset("from-infos").merge_records(infos)
    assert sorted(r.inputs["question"] for r in ds.records) == sorted(QUESTIONS)


def test_a_search_traces_dataframe_is_accepted(traced: Traced) -> None:
    frame = otelfeedback.search_traces(max_results=None, return_type="pandas")
    ds = create_dataset("from-frame").merge_records(frame)
    assert {r.source_id for r in ds.records} == set(traced.trace_ids)


def test_merge_upserts_by_inputs_and_keeps_creation(traced: Traced) -> None:
    ds = create_dataset("merge-rules")
    ds.merge_records([otelfeedback.get_trace(traced.trace_ids[0])])
    created = ds.records[0]
    ds.merge_records(
        [
            {
                "inputs": {"question": QUESTIONS[0]},
                "outputs": "new answer",
                "expectations": {"expected_facts": ["open source", "lifecycle"], "extra": 1},
                "tags": {"reviewed": "yes"},
                "source": {"source_type": "HUMAN", "source_id": "alice"},
            }
        ]
    )
    assert ds.version == 2 and ds.record_count == 1
    merged = ds.records[0]
    assert merged.record_id == created.record_id
    assert merged.outputs == "new answer"  # replaced
    assert merged.expectations == {  # merged, new keys win
        "expected_response": "MLflow is an open-source platform for the ML lifecycle.",
        "expected_facts": ["open source", "lifecycle"],
        "extra": 1,
    }
    assert merged.tags == {"reviewed": "yes"}
    assert merged.source == created.source  # lineage: where it came from
    assert (merged.created_time, merged.created_by) == (created.created_time, created.created_by)
    assert (merged.added_in, merged.changed_in) == (1, 2)
    # no outputs given: kept
    ds.merge_records([{"inputs": {"question": QUESTIONS[0]}, "tags": {"x": "y"}}])
    assert ds.records[0].outputs == "new answer"


def test_a_merge_that_changes_nothing_makes_no_version(traced: Traced) -> None:
    ds = create_dataset("idempotent").merge_records(otelfeedback.search_traces())
    ds.merge_records(otelfeedback.search_traces())
    assert ds.version == 1 and len(ds.versions()) == 1


def test_source_is_inferred_when_missing(traced: Traced) -> None:
    ds = create_dataset("inferred").merge_records(
        [
            {"inputs": {"q": "a"}},
            {"inputs": {"q": "b"}, "expectations": {"expected_response": "B"}},
        ]
    )
    assert [r.source_type for r in ds.records] == ["CODE", "HUMAN"]


def test_records_keep_the_order_they_were_added_in(traced: Traced) -> None:
    ds = create_dataset("ordered")
    ds.merge_records([{"inputs": {"n": n}} for n in (5, 3, 9)])
    ds.merge_records([{"inputs": {"n": 1}}, {"inputs": {"n": 3}, "tags": {"t": "x"}}])
    assert [r.inputs["n"] for r in ds.records] == [5, 3, 9, 1]
    assert [r.position for r in ds.records] == [0, 1, 2, 3]


def test_a_dataset_object_reads_its_version_until_reload(traced: Traced) -> None:
    mine = create_dataset("stable").merge_records([{"inputs": {"q": "one"}}])
    theirs = get_dataset("stable")
    theirs.merge_records([{"inputs": {"q": "two"}}])
    assert (theirs.version, theirs.record_count) == (2, 2)
    assert (mine.version, [r.inputs for r in mine.records]) == (1, [{"q": "one"}])
    assert [r.inputs for r in get_dataset("stable", version=1).records] == [{"q": "one"}]
    assert mine.reload() is mine
    assert (mine.version, len(mine.records)) == (2, 2)
    # my own change lands on the latest version, whoever made it
    other = get_dataset("stable")
    other.merge_records([{"inputs": {"q": "three"}}])
    mine.merge_records([{"inputs": {"q": "four"}}])
    assert mine.version == 4
    assert [r.inputs["q"] for r in mine.records] == ["one", "two", "three", "four"]


def test_versions_say_who_when_and_what(traced: Traced) -> None:
    ds = create_dataset("history")
    ds.merge_records([{"inputs": {"q": "a"}}, {"inputs": {"q": "b"}}])
    ds.merge_records([{"inputs": {"q": "a"}, "tags": {"k": "v"}}, {"inputs": {"q": "c"}}])
    removed = ds.delete_records([ds.records[1].record_id, "r-" + "0" * 32])
    assert removed == 1
    versions = ds.versions()
    assert [
        (v.version, v.operation, v.added, v.changed, v.removed, v.record_count) for v in versions
    ] == [
        (1, "merge", 2, 0, 0, 2),
        (2, "merge", 1, 1, 0, 3),
        (3, "delete", 0, 0, 1, 2),
    ]
    assert all(v.created_by == versions[0].created_by and v.created_time > 0 for v in versions)
    assert versions[0].sources == {"CODE": 2}
    assert ds.delete_records(["r-" + "1" * 32]) == 0 and ds.version == 3


def test_diff_between_versions(traced: Traced) -> None:
    ds = create_dataset("diffs")
    ds.merge_records([{"inputs": {"q": "a"}}, {"inputs": {"q": "b"}}, {"inputs": {"q": "c"}}])
    ds.merge_records(
        [{"inputs": {"q": "a"}, "expectations": {"expected_response": "A"}}, {"inputs": {"q": "d"}}]
    )
    ds.delete_records([r.record_id for r in ds.records if r.inputs["q"] == "b"])
    diff = ds.diff(1, 3)
    assert [r.inputs["q"] for r in diff.added] == ["d"]
    assert [r.inputs["q"] for r in diff.removed] == ["b"]
    assert [(c.old.inputs["q"], c.fields) for c in diff.changed] == [("a", ["expectations"])]
    assert diff.changed[0].new.expectations == {"expected_response": "A"}
    assert diff.unchanged == 1
    backwards = ds.diff(3, 1)
    assert [r.inputs["q"] for r in backwards.removed] == ["d"]
    assert not ds.diff(3, 3)
    assert [r.inputs["q"] for r in ds.diff().removed] == ["b"]  # previous -> this
    assert len(ds.diff(0, 1).added) == 3
    as_json = diff.to_dict()
    assert as_json["from_version"] == 1 and as_json["changed"][0]["fields"] == ["expectations"]


def test_to_pandas_round_trips_through_merge(traced: Traced) -> None:
    ds = create_dataset("frame").merge_records(otelfeedback.search_traces())
    frame = ds.to_pandas()
    assert list(frame["record_id"]) == [r.record_id for r in ds.records]
    assert set(frame["source_type"]) == {"TRACE"}
    copy = create_dataset("frame-copy").merge_records(frame)
    assert [r.content() for r in copy.records] == [r.content() for r in ds.records]
    assert [r.source for r in copy.records] == [r.source for r in ds.records]


def test_list_and_delete(traced: Traced) -> None:
    kept = create_dataset("b-kept")
    gone = create_dataset("a-gone").merge_records([{"inputs": {"q": "x"}}])
    assert [d.name for d in list_datasets()] == ["a-gone", "b-kept"]
    delete_dataset("a-gone")
    assert [d.dataset_id for d in list_datasets()] == [kept.dataset_id]
    with pytest.raises(NotFoundError):
        get_dataset("a-gone")
    with pytest.raises(NotFoundError):
        delete_dataset("a-gone")
    assert [r.inputs for r in gone.records] == [{"q": "x"}]  # the object still reads its version
    with pytest.raises(NotFoundError, match="deleted"):
        gone.merge_records([{"inputs": {"q": "y"}}])
    again = create_dataset("a-gone")  # the name is free again: a new dataset
    assert again.dataset_id != gone.dataset_id and again.version == 0


@pytest.mark.parametrize("store_location", ["file"], indirect=True)  # a file store's reindex
def test_datasets_survive_reindex(traced: Traced, tmp_path: Path) -> None:
    ds = create_dataset("durable").merge_records(otelfeedback.search_traces())
    ds.merge_records([{"inputs": {"question": QUESTIONS[2]}, "tags": {"k": "v"}}])
    from otelfeedback.store import FileStore

    with FileStore(traced.store) as store:
        store.reindex()
    again = get_dataset("durable")
    assert again.version == 2
    assert [r.to_dict() for r in again.records] == [r.to_dict() for r in ds.records]
    assert [r.to_dict() for r in get_dataset("durable", 1).records] == [
        r.to_dict() for r in ds.at_version(1).records
    ]
