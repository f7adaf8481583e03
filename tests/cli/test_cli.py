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


def test_traces_get_takes_a_unique_prefix_and_names_an_ambiguous_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = ["ab12" + "0" * 27 + "1", "ab34" + "0" * 27 + "2", "cd56" + "0" * 27 + "3"]
    append(tmp_path, line([span(t, sid(i + 1), f"t{i}") for i, t in enumerate(ids)]))
    status, out, _ = run(capsys, "traces", "get", "CD5", "--store", str(tmp_path), "--json")
    assert status == 0
    assert json.loads(out)["info"]["trace_id"] == ids[2]
    status, _, err = run(capsys, "traces", "get", "ab", "--store", str(tmp_path))
    assert status == 2
    assert ids[0] in err and ids[1] in err and "several traces" in err
    status, _, err = run(capsys, "traces", "get", "ef", "--store", str(tmp_path))
    assert (status, "no trace id starts with 'ef'") == (1, err.strip().split(": ", 1)[1])
    status, _, err = run(capsys, "traces", "get", "xyz'--", "--store", str(tmp_path))
    assert status == 2 and "hex prefix" in err


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    """``otelfeedback traces search --json | head -c 1``: no BrokenPipeError traceback."""
    import subprocess
    import sys

    big = "x" * 2000  # ~600 KB of JSON: far more than a pipe holds
    spans = [span(tid(n), sid(n), "t", attrs=io_attrs("CHAIN", big, big)) for n in range(1, 151)]
    append(tmp_path, line(spans))
    store = tmp_path
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    code = (
        "import sys; from otelfeedback.cli import main\n"
        "sys.exit(main(['traces', 'search', '--json', '-n', '150', '--store', sys.argv[1]]))"
    )
    writer = subprocess.run(
        [sys.executable, "-c", code, str(store)],
        check=False,
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait()
    assert "Traceback" not in writer.stderr
    assert writer.returncode in (0, 141)
