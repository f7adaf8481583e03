"""JSONL export and import: one record a line, identity through another store, lineage kept,
bad files rejected naming the line, nothing half-imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.datasets import create_dataset, get_dataset
from otelfeedback.errors import InvalidArgumentError
from tests.datasets.conftest import Traced

EXPORT_ORDER = [
    "record_id",
    "inputs",
    "outputs",
    "expectations",
    "tags",
    "source",
    "created_time",
    "created_by",
    "last_update_time",
    "last_updated_by",
]


def test_export_import_export_is_identity_across_stores(traced: Traced, tmp_path: Path) -> None:
    ds = create_dataset("golden").merge_records(otelfeedback.search_traces())
    ds.merge_records(
        [
            {
                "inputs": {"question": "edge", "big": 2**70, "s": "a\ud800b", "e": ""},
                "outputs": None,
            },
            {"inputs": {"question": "tagged"}, "tags": {"k": "v"}, "expectations": {"x": [1, 2]}},
        ]
    )
    first = tmp_path / "golden.jsonl"
    assert ds.export_jsonl(first) == 5
    lines = first.read_bytes().splitlines()
    assert len(lines) == 5
    for raw in lines:
        item = json.loads(raw.decode("utf-8"))  # plain UTF-8 JSON, one record a line
        assert list(item) == EXPORT_ORDER  # the documented order of an export line

    otelfeedback.configure(store=tmp_path / "other-store")
    copy = create_dataset("golden-copy").import_jsonl(first)
    assert (copy.version, copy.record_count) == (1, 5)
    assert copy.versions()[0].operation == "import"
    second = tmp_path / "copy.jsonl"
    copy.export_jsonl(second)
    assert second.read_bytes() == first.read_bytes()
    assert [r.source for r in copy.records] == [r.source for r in ds.records]
    assert [r.created_time for r in copy.records] == [r.created_time for r in ds.records]


def test_hand_written_files_import_with_a_file_source(traced: Traced, tmp_path: Path) -> None:
    path = tmp_path / "handmade.jsonl"
    path.write_text(
        '{"inputs": {"q": "one"}, "expectations": {"expected_response": "1"}}\n'
        "\n"
        '{"inputs": {"q": "two"}, "record_id": "r-ignored"}\n',
        encoding="utf-8",
    )
    ds = create_dataset("handmade").import_jsonl(path)
    assert [r.inputs["q"] for r in ds.records] == ["one", "two"]
    assert {r.source_type for r in ds.records} == {"FILE"}
    assert ds.records[0].source_id == "handmade.jsonl"
    # importing again merges: nothing changes, no new version
    assert ds.import_jsonl(path).version == 1


@pytest.mark.parametrize(
    ("content", "argument", "message"),
    [
        ('{"inputs": {"q": "a"}}\n{"inputs": "b"}\n', "line 2.inputs", "JSON object"),
        ('{"inputs": {"q": "a"}}\nnot json\n', "line 2", "not JSON"),
        ("[1, 2]\n", "line 1", "one record a line"),
        ('{"inputs": {"q": NaN}}\n', "line 1.inputs.q", "NaN"),
        (
            '{"inputs": {"q": "a"}, "created_time": "yesterday"}\n',
            "line 1.created_time",
            "milliseconds",
        ),
        ('{"inputs": {"q": "a"}, "nope": 1}\n', "line 1.nope", "unknown field"),
        ("\n\n", "path", "no records"),
    ],
)
def test_bad_files_name_the_line_and_import_nothing(
    traced: Traced, tmp_path: Path, content: str, argument: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    ds = create_dataset("target")
    with pytest.raises(InvalidArgumentError, match=message) as info:
        ds.import_jsonl(path)
    assert info.value.argument == argument
    assert get_dataset("target").version == 0


def test_a_missing_file_is_an_argument_error(traced: Traced, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="cannot read"):
        create_dataset("nothing").import_jsonl(tmp_path / "missing.jsonl")
