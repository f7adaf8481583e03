"""``otelfeedback eval runs list|show|compare`` and ``otelfeedback eval alignment``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otelfeedback.cli import main
from otelfeedback.testing import FakeOpenAIServer
from tests.evaluation.seed import SeededRuns, seed_runs


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SeededRuns:
    with FakeOpenAIServer() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        return seed_runs(tmp_path / "store", fake)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_runs_list(seeded: SeededRuns, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "eval", "runs", "list", "--store", str(seeded.store))
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["RUN_ID", "STARTED", "(UTC)", "NAME"]
    assert lines[1].startswith(seeded.candidate) and lines[2].startswith(seeded.base)
    assert "safety/mean=0.667" in lines[2]
    status, out, _ = run(capsys, "eval", "runs", "list", "--store", str(seeded.store), "--json")
    assert [r["name"] for r in json.loads(out)["runs"]] == ["candidate", "baseline"]


def test_runs_show(seeded: SeededRuns, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "eval", "runs", "show", seeded.base, "--store", str(seeded.store))
    assert status == 0
    assert "'baseline'  finished" in out and "judge openai:/gpt-4o-mini prompt" in out
    assert "safety=no" in out and "length  code" in out
    status, out, _ = run(
        capsys, "eval", "runs", "show", seeded.base, "--store", str(seeded.store), "--json"
    )
    data = json.loads(out)
    assert data["run_id"] == seeded.base and len(data["rows"]) == 3


def test_runs_compare(seeded: SeededRuns, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["eval", "runs", "compare", seeded.base, seeded.candidate, "--store", str(seeded.store)]
    status, out, _ = run(capsys, *args)
    assert status == 0
    assert "safety: 1 regressed" in out and "safety: 1 improved" in out
    assert "safety/mean" in out and "+0" in out
    status, out, _ = run(capsys, *args, "--json")
    assert list(json.loads(out)["regressed"]) == ["length", "safety"]  # longer answers


def test_alignment(seeded: SeededRuns, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["eval", "alignment", "--judge", "safety", "--human", "human_safety"]
    status, out, _ = run(capsys, *args, "--store", str(seeded.store))
    assert status == 0
    assert "n 3   agreement 66.7%" in out and "HUMAN \\ JUDGE" in out
    status, out, _ = run(capsys, *args, "--map", "true=no", "--map", "false=yes", "--json",
                         "--store", str(seeded.store))  # fmt: skip
    assert json.loads(out)["agreement"] == pytest.approx(1 / 3)


def test_unknown_run_and_bad_mapping_are_clear_errors(
    seeded: SeededRuns, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "eval", "runs", "show", "nope", "--store", str(seeded.store))
    assert status == 1 and "evaluation run 'nope' not found" in err
    status, _, err = run(
        capsys, "eval", "alignment", "--judge", "a", "--human", "b", "--map", "oops",
        "--store", str(seeded.store),
    )  # fmt: skip
    assert status == 2 and "mapping" in err
