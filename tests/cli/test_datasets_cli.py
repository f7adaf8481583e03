"""``otelfeedback datasets``, run in-process through ``main()``, on a file store and against a
live server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.cli import main
from otelfeedback.datasets import create_dataset
from otelfeedback.server import create_app
from tests.datasets.conftest import QUESTIONS, Traced, trace_questions
from tests.server.live import LiveServer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def golden(tmp_path: Path) -> Traced:
    traced = trace_questions(tmp_path / "store")
    ds = create_dataset("golden").merge_records(otelfeedback.search_traces())
    ds.merge_records([{"inputs": {"question": QUESTIONS[1]}, "expectations": {"ok": True}}])
    return traced


def test_list_and_show(golden: Traced, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(golden.store)
    status, out, _ = run(capsys, "datasets", "list", "--store", store, "--json")
    assert status == 0
    [listed] = json.loads(out)["datasets"]
    assert (listed["name"], listed["version"], listed["record_count"]) == ("golden", 2, 3)
    status, out, _ = run(capsys, "datasets", "list", "--store", store)
    assert out.splitlines()[0].startswith("NAME") and "golden" in out
    status, out, _ = run(capsys, "datasets", "show", "golden", "--store", store, "--json")
    shown = json.loads(out)
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert len(shown["records"]) == 3
    status, out, _ = run(capsys, "datasets", "show", "golden", "--version", "1", "--store", store)
    assert status == 0 and "version 1 of 2" in out and "+3 ~0 -0" in out
    status, out, _ = run(capsys, "datasets", "show", "golden", "--limit", "1", "--store", store)
    assert "... 2 more" in out


def test_export_import_and_diff(
    golden: Traced, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, other = str(golden.store), str(tmp_path / "other")
    Path(other).mkdir()
    path = tmp_path / "golden.jsonl"
    status, out, _ = run(capsys, "datasets", "export", "golden", str(path), "--store", store)
    assert status == 0 and "exported 3 records" in out
    status, out, _ = run(capsys, "datasets", "export", "golden", "-", "--store", store)
    assert out.encode() == path.read_bytes()
    status, out, _ = run(
        capsys, "datasets", "import", str(path), "--name", "copy", "--store", other, "--json"
    )
    assert status == 0
    imported = json.loads(out)
    assert imported["created"] and imported["version"]["added"] == 3
    status, out, _ = run(
        capsys, "datasets", "import", str(path), "--name", "copy", "--store", other
    )
    assert "nothing to change" in out
    status, out, _ = run(capsys, "datasets", "export", "copy", "-", "--store", other)
    assert out.encode() == path.read_bytes()
    status, out, _ = run(capsys, "datasets", "diff", "golden", "1", "2", "--store", store, "--json")
    diff = json.loads(out)
    assert [c["fields"] for c in diff["changed"]] == [["expectations"]]
    status, out, _ = run(capsys, "datasets", "diff", "golden", "--store", store)
    assert "0 added, 1 changed, 0 removed, 2 unchanged" in out
    assert "expectations" in out


def test_bad_input_exits_2_and_unknown_exits_1(
    golden: Traced, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(golden.store)
    status, _, err = run(capsys, "datasets", "show", "missing", "--store", store)
    assert status == 1 and "no dataset named 'missing'" in err
    status, _, err = run(capsys, "datasets", "show", "golden", "--version", "9", "--store", store)
    assert status == 2 and "version" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"inputs": {"q": "a"}}\n{"inputs": "b"}\n')
    status, _, err = run(capsys, "datasets", "import", str(bad), "--name", "new", "--store", store)
    assert status == 2 and "line 2.inputs" in err
    status, out, _ = run(capsys, "datasets", "list", "--store", store, "--json")
    assert [d["name"] for d in json.loads(out)["datasets"]] == ["golden"]  # nothing created
    status, _, err = run(
        capsys,
        "datasets",
        "export",
        "golden",
        str(tmp_path / "no/such/dir.jsonl"),
        "--store",
        store,
    )
    assert status == 2 and "cannot write" in err


def test_against_a_server(golden: Traced, capsys: pytest.CaptureFixture[str]) -> None:
    live = LiveServer(create_app(golden.store))
    try:
        status, out, _ = run(capsys, "datasets", "show", "golden", "--store", live.url, "--json")
        assert status == 0 and json.loads(out)["dataset"]["record_count"] == 3
    finally:
        live.close()
