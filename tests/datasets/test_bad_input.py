"""Bad input to datasets: the argument error names the record and the field, and nothing is
half-written (a failed merge makes no version and changes no record)."""

from __future__ import annotations

import re
from typing import Any

import pytest

import otelfeedback
from otelfeedback.datasets import Dataset, create_dataset, get_dataset
from otelfeedback.errors import InvalidArgumentError, NotFoundError
from tests.datasets.conftest import Traced


@pytest.fixture
def ds(traced: Traced) -> Dataset:
    ds = create_dataset("strict")
    ds.merge_records([{"inputs": {"question": "q", "n": 1}, "expectations": {"score": 0.5}}])
    return ds


def assert_untouched(ds: Dataset) -> None:
    latest = get_dataset(ds.name)
    assert latest.version == 1 and len(latest.versions()) == 1
    assert [r.inputs for r in latest.records] == [{"question": "q", "n": 1}]


@pytest.mark.parametrize(
    ("records", "argument", "message"),
    [
        ([{"inputs": "What is MLflow?"}], "records[0].inputs", "expected a JSON object"),
        ([{"inputs": ["q"]}], "records[0].inputs", "expected a JSON object"),
        ([{"outputs": "x"}], "records[0].inputs", "required"),
        ([{"inputs": {}}], "records[0].inputs", "must not be empty"),
        ([{"inputs": {"q": float("nan")}}], "records[0].inputs.q", "NaN"),
        ([{"inputs": {"q": "a"}, "outputs": float("inf")}], "records[0].outputs", "Infinity"),
        ([{"inputs": {"q": "a"}, "expectations": "yes"}], "records[0].expectations", "object"),
        ([{"inputs": {"q": "a"}, "tags": {"k": 1}}], "records[0].tags.k", "strings"),
        (
            [{"inputs": {"q": "a"}, "source": {"source_type": "ROBOT"}}],
            "records[0].source.source_type",
            "TRACE",
        ),
        ([{"inputs": {"q": "a"}, "score": 1}], "records[0].score", "unknown field"),
        ([{"inputs": {"q": "a"}}, 42], "records[1]", "expected a dict"),
        ([{"inputs": {"q": {1: "int key"}}}], "records[0].inputs.q", "keys must be strings"),
        # a schema change: within the batch, and against the dataset
        (
            [
                {"inputs": {"question": "a", "ctx": "x"}},
                {"inputs": {"question": "b", "ctx": ["x"]}},
            ],
            "records[1].inputs.ctx",
            "is an array, but a string in records[0]",
        ),
        ([{"inputs": {"question": 7}}], "records[0].inputs.question", "a string in the dataset"),
        (
            [{"inputs": {"question": "b"}, "expectations": {"score": "high"}}],
            "records[0].expectations.score",
            "is a string, but a number in the dataset",
        ),
        ([], "records", "at least one"),
        ({"inputs": {"q": "a"}}, "records", "wrap a single record"),
        ("inputs", "records", "expected a list"),
    ],
)
def test_bad_records_name_the_record_and_field(
    ds: Dataset, records: Any, argument: str, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)) as info:
        ds.merge_records(records)
    assert info.value.argument == argument
    assert_untouched(ds)
    assert ds.version == 1


def test_a_bad_record_late_in_a_large_batch_writes_nothing(ds: Dataset) -> None:
    batch: list[Any] = [{"inputs": {"question": f"q{i}"}} for i in range(5000)]
    batch.append({"inputs": {"question": "last", "n": "not a number"}})
    with pytest.raises(InvalidArgumentError) as info:
        ds.merge_records(batch)
    assert info.value.argument == "records[5000].inputs.n"
    assert_untouched(ds)


def test_a_trace_whose_root_input_is_not_an_object_is_named(traced: Traced) -> None:
    @otelfeedback.trace
    def plain(*args: str) -> str:
        return "ok"

    with otelfeedback.start_span("bare") as span:
        span.set_inputs("just a string")
    bare = otelfeedback.get_last_active_trace_id()
    assert bare is not None
    ds = create_dataset("traces-only")
    traces = [otelfeedback.get_trace(traced.trace_ids[0]), otelfeedback.get_trace(bare)]
    with pytest.raises(InvalidArgumentError, match=f"trace {bare}") as info:
        ds.merge_records(traces)
    assert info.value.argument == "records[1].inputs"
    assert ds.reload().version == 0


@pytest.mark.parametrize("version", [2, -1, 99, "1", True, 1.0])
def test_an_unknown_version_is_an_argument_error(ds: Dataset, version: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        get_dataset("strict", version=version)
    assert info.value.argument == "version"
    with pytest.raises(InvalidArgumentError):
        ds.diff(0, version)


@pytest.mark.parametrize(
    "name", ["", "   ", " padded", "a/b", "tab\there", "x" * 201, "d-" + "0" * 32, 5, None]
)
def test_bad_names_are_argument_errors(traced: Traced, name: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        create_dataset(name)
    assert info.value.argument == "name"


def test_a_duplicate_name_is_an_argument_error(ds: Dataset) -> None:
    with pytest.raises(InvalidArgumentError, match="exists") as info:
        create_dataset("strict")
    assert info.value.argument == "name"
    assert get_dataset("strict").dataset_id == ds.dataset_id


def test_unusual_names_work(traced: Traced) -> None:
    for name in ("Ünïcode ☕ set", "with spaces and 'quotes'", "x" * 200, "-dash"):
        assert get_dataset(create_dataset(name).dataset_id).name == name


def test_bad_arguments_elsewhere(ds: Dataset) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        create_dataset("tagged", tags={"k": 1})  # type: ignore[dict-item]
    assert info.value.argument == "tags.k"
    with pytest.raises(InvalidArgumentError):
        create_dataset("described", description=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError) as info:
        ds.delete_records(["nope"])
    assert info.value.argument == "record_ids[0]"
    with pytest.raises(InvalidArgumentError):
        ds.delete_records("r-" + "0" * 32)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        get_dataset("missing")
    with pytest.raises(NotFoundError):
        get_dataset("d-" + "0" * 32)
    assert_untouched(ds)


def test_edge_values_in_records_round_trip(traced: Traced) -> None:
    edge = {
        "big": 2**64 + 1,
        "surrogate": "a\ud800b",
        "empty": "",
        "nested": {"a": [[{"b": None}]]},
        "unicode": "café ☕",
    }
    ds = create_dataset("edges").merge_records(
        [{"inputs": edge, "outputs": "x" * 1_000_000, "expectations": {"e": edge}}]
    )
    record = get_dataset("edges").records[0]
    assert record.inputs == edge and record.expectations == {"e": edge}
    assert len(record.outputs) == 1_000_000
    assert ds.records[0].record_id == record.record_id
