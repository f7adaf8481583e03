"""The command line, run in-process through ``main()``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otelfeedback.cli import main
from tests.store.otlp_fixtures import append, io_attrs, line, sid, span, tid


@pytest.fixture
def store(tmp_path: Path) -> Path:
    append(
        tmp_path,
        line(
            [
                span(tid(1), sid(1), "chat", attrs=io_attrs("CHAIN", "hello", "hi")),
                span(
                    tid(2),
                    sid(2),
                    "search",
                    start_ms=10,
                    status=2,
                    attrs=io_attrs("TOOL", "q", "r"),
                ),
            ]
        ),
    )
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_traces_search_json_and_table(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "traces", "search", "--store", str(store), "--json")
    assert status == 0
    data = json.loads(out)
    assert [t["trace_id"] for t in data["traces"]] == [tid(2), tid(1)]
    assert data["next_page_token"] is None
    status, out, _ = run(
        capsys, "traces", "search", "--store", str(store), "-f", "trace.status = 'ERROR'"
    )
    assert status == 0
    assert tid(2) in out and tid(1) not in out
    assert out.splitlines()[0].startswith("TRACE_ID")


def test_traces_get(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "traces", "get", tid(1), "--store", str(store), "--json")
    assert status == 0
    assert json.loads(out)["info"]["name"] == "chat"
    status, out, _ = run(capsys, "traces", "get", tid(1), "--store", str(store))
    assert "chat [CHAIN]" in out


def test_assessments_log_then_list(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys,
        "assessments",
        "log",
        tid(1),
        "--name",
        "user_feedback",
        "--value",
        "false",
        "--rationale",
        "wrong",
        "--source-id",
        "ann",
        "--store",
        str(store),
    )
    assert status == 0
    assessment_id = out.strip()
    assert assessment_id.startswith("a-")
    run(
        capsys,
        "assessments",
        "log",
        tid(1),
        "--name",
        "expected",
        "--value",
        "plain text",
        "--expectation",
        "--store",
        str(store),
    )
    status, out, _ = run(capsys, "assessments", "list", tid(1), "--store", str(store), "--json")
    items = {a["name"]: a for a in json.loads(out)}
    assert items["user_feedback"]["value"] is False
    assert items["user_feedback"]["source"] == {"source_type": "HUMAN", "source_id": "ann"}
    assert items["expected"]["kind"] == "expectation"
    assert items["expected"]["value"] == "plain text"
    status, out, _ = run(
        capsys,
        "traces",
        "search",
        "--store",
        str(store),
        "-f",
        "feedback.user_feedback = false",
        "--json",
    )
    assert [t["trace_id"] for t in json.loads(out)["traces"]] == [tid(1)]


def test_store_reindex(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "store", "reindex", "--store", str(store), "--json")
    assert status == 0
    assert json.loads(out)["spans"] == 2


def test_errors_exit_nonzero_with_a_message(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "traces", "search", "--store", str(store), "-f", "trace.x = 1")
    assert status == 2 and "unknown trace field 'x'" in err and "^" in err
    status, _, err = run(capsys, "traces", "get", tid(9), "--store", str(store))
    assert status == 1 and "not found" in err
    status, _, err = run(capsys, "traces", "get", "nope", "--store", str(store))
    assert status == 2 and "trace_id" in err
    status, _, err = run(
        capsys, "assessments", "log", tid(9), "--name", "x", "--value", "1", "--store", str(store)
    )
    assert status == 1 and "not found" in err
    status, _, err = run(capsys, "traces", "search", "--store", str(store / "missing"))
    assert status == 2 and "not a directory" in err
