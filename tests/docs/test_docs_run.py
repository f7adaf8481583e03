"""Docs that run: the README's quickstart snippet and the examples."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown.read_text(encoding="utf-8"), re.S)


def test_readme_quickstart_snippet_runs_and_writes_the_default_store(tmp_path: Path) -> None:
    snippet = python_blocks(ROOT / "README.md")[0]
    code = snippet + (
        "\nassert trace_id and len(trace_id) == 32\n"
        "assert [t.info.trace_id for t in unhappy] == [trace_id]\n"
        "assert trace.assessments[0].value is False\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True, timeout=60)
    assert list((tmp_path / "otelfeedback-data" / "traces").glob("segment-*.jsonl"))


def test_quickstart_example_runs_offline(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart" / "main.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"Trace ID: [0-9a-f]{32}", result.stdout)
    assert "user_feedback = False (Missing details" in result.stdout
    # Step 1 ran against the fake OpenAI server: the LLM call is a span of the trace.
    assert "CHAT_MODEL chat gpt-4o-mini" in result.stdout
    assert "RETRIEVER  retrieve_context" in result.stdout
    assert list((tmp_path / "otelfeedback-data" / "traces").glob("segment-*.jsonl"))


def test_quickstart_step_5_prints_a_review_link_and_can_fill_in_an_expert(
    tmp_path: Path,
) -> None:
    from otelfeedback.server import create_app
    from otelfeedback.store import FileStore
    from tests.server.live import LiveServer, get

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    script = str(ROOT / "examples" / "quickstart" / "main.py")
    for _ in range(2):  # a second run starts a fresh session
        result = subprocess.run(
            [sys.executable, script, "--expert-labels"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert "Trace sent for review!" in result.stdout
    link = re.search(
        r"Share this link with reviewers: (http://127.0.0.1:5050(/review/\S+))", result.stdout
    )
    assert link is not None
    assert "expectation expected_response = 'OpenTelemetry is a vendor-neutral" in result.stdout
    assert "feedback response_accuracy = 'Partially Accurate'" in result.stdout
    store = tmp_path / "otelfeedback-data"
    sessions = FileStore(store).list_records("labeling_session")
    assert [s.data["name"] for s in sessions] == ["quickstart_review"]
    server = LiveServer(create_app(store))
    try:
        assert get(server.url + link.group(2)).status == 200  # the review app's start page
    finally:
        server.close()


def test_evaluation_example_runs_offline(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "evaluation" / "main.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"Run [0-9a-f]{32}: \{'correctness/mean': 1.0", result.stdout)
    assert "'What is a span?': correctness=yes, relevance_to_query=yes" in result.stdout
    assert "Judge vs. expert: n=2, agreement=100%" in result.stdout
    assert list((tmp_path / "otelfeedback-data" / "records").glob("segment-*.jsonl"))
