"""``otelfeedback labeling``: schemas, sessions, links and agreement from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otelfeedback.labeling import links
from otelfeedback.store import FileStore
from tests.cli.test_cli import run
from tests.store.otlp_fixtures import append, io_attrs, line, sid, span, tid


@pytest.fixture
def store(tmp_path: Path) -> Path:
    append(
        tmp_path,
        line(
            [
                span(
                    tid(n),
                    sid(n),
                    f"chat {n}",
                    start_ms=n,
                    attrs=io_attrs("CHAIN", f"q{n}", f"a{n}"),
                )
                for n in (1, 2, 3)
            ]
        ),
    )
    return tmp_path


def test_schemas_sessions_links_and_agreement(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = ["--store", str(store)]
    assert run(
        capsys,
        "labeling",
        "schemas",
        "create",
        "response_accuracy",
        "--title",
        "Accurate?",
        "--option",
        "Accurate",
        "--option",
        "Inaccurate",
        *s,
    )[1] == ("response_accuracy\n")
    status, out, _ = run(
        capsys,
        "labeling",
        "schemas",
        "create",
        "score",
        "--title",
        "Score",
        "--input",
        "numeric",
        "--min",
        "1",
        "--max",
        "5",
        "--json",
        *s,
    )
    assert status == 0 and json.loads(out)["input"] == {
        "type": "numeric",
        "min_value": 1.0,
        "max_value": 5.0,
    }
    status, out, _ = run(capsys, "labeling", "schemas", "list", *s)
    assert out.splitlines()[0].split() == ["NAME", "TYPE", "INPUT", "TITLE"]
    assert "score" in out and "numeric" in out

    status, sid_out, _ = run(
        capsys,
        "labeling",
        "sessions",
        "create",
        "cli_review",
        "--schema",
        "response_accuracy",
        "--reviewers-per-item",
        "2",
        *s,
    )
    assert status == 0 and sid_out.startswith("lss-")
    status, out, _ = run(
        capsys, "labeling", "sessions", "add-traces", "cli_review", tid(1), tid(2), "--json", *s
    )
    assert json.loads(out) == {"added": 2, "total": 2}
    status, out, _ = run(
        capsys,
        "labeling",
        "sessions",
        "add-traces",
        "cli_review",
        "-f",
        "trace.name LIKE 'chat%'",
        *s,
    )
    assert out.strip() == "added 1 trace(s); the session has 3"

    status, out, _ = run(
        capsys,
        "labeling",
        "sessions",
        "links",
        "cli_review",
        "--reviewer",
        "alice",
        "--days",
        "2",
        "--base-url",
        "http://review.example:5050",
        "--json",
        *s,
    )
    found = json.loads(out)["links"]
    assert found[0]["reviewer"] == "alice"
    token = found[0]["url"].removeprefix("http://review.example:5050/review/")
    assert links.verify(FileStore(store), token).reviewer == "alice"
    status, out, _ = run(capsys, "labeling", "sessions", "links", "cli_review", *s)
    assert out.startswith("(shared)\thttp://127.0.0.1:5050/review/")

    from otelfeedback.labeling import get_labeling_session, using_store

    with using_store(FileStore(store)):
        session = get_labeling_session("cli_review")
        session.submit_labels(tid(1), "alice", {"response_accuracy": "Accurate"})
        session.submit_labels(tid(1), "bob", {"response_accuracy": "Inaccurate"})
    status, out, _ = run(capsys, "labeling", "sessions", "agreement", "cli_review", "--json", *s)
    report = json.loads(out)["schemas"][0]
    assert (report["items"], report["percent_agreement"]) == (1, 0.0)
    status, out, _ = run(capsys, "labeling", "sessions", "agreement", "cli_review", *s)
    assert out.splitlines()[1].split()[:5] == ["response_accuracy", "nominal", "1", "2", "0.000"]
    status, out, _ = run(capsys, "labeling", "sessions", "list", "--json", *s)
    assert json.loads(out)[0]["progress"]["done"] == 1

    assert run(capsys, "labeling", "secret", "rotate", *s)[0] == 0
    with pytest.raises(links.LinkError):
        links.verify(FileStore(store), token)


def test_bad_input_and_unknown_names_exit_with_messages(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = ["--store", str(store)]
    status, _, err = run(capsys, "labeling", "schemas", "create", "x", "--title", "X?", *s)
    assert status == 2 and "--input.options" in err
    status, _, err = run(capsys, "labeling", "sessions", "create", "s", "--schema", "nope", *s)
    assert status == 2 and "no label schema named 'nope'" in err
    status, _, err = run(capsys, "labeling", "sessions", "agreement", "nope", *s)
    assert status == 1 and "no labeling session named 'nope'" in err
    run(capsys, "labeling", "schemas", "create", "q", "--title", "Q?", "--input", "text", *s)
    run(capsys, "labeling", "sessions", "create", "s", "--schema", "q", *s)
    status, _, err = run(capsys, "labeling", "sessions", "add-traces", "s", *s)
    assert status == 2 and "TRACE_ID" in err
    status, _, err = run(capsys, "labeling", "sessions", "add-traces", "s", "f" * 32, *s)
    assert status == 1 and "not found" in err
    status, _, err = run(capsys, "labeling", "schemas", "delete", "q", *s)
    assert status == 2 and "used by labeling session" in err
