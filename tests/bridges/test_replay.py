"""``otelfeedback bridge replay``: a store written without any bridge, sent afterwards to real
Phoenix and MLflow servers, ends there in its latest state (override and delete applied)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback.cli import main
from otelfeedback.testing import FakeOpenAIServer
from tests.bridges.readback import MLflow, Phoenix
from tests.bridges.servers import Server
from tests.bridges.tutorial import ANSWER, end_user_feedback, step_1

pytestmark = pytest.mark.backends


@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """A store holding the tutorial's trace and a history of feedback: the end user's
    thumbs-down, overridden by a reviewer; a span feedback, deleted; an expectation."""
    store = tmp_path / "store"
    otelfeedback.configure(store=store, service_name="tutorial-chatbot")
    with FakeOpenAIServer() as fake:
        fake.reply(ANSWER)
        trace_id = step_1(fake.base_url)
    original = end_user_feedback(trace_id)
    override = otelfeedback.override_feedback(trace_id, original.assessment_id, True)
    retriever = next(
        s for s in otelfeedback.get_trace(trace_id).spans if s.name == "retrieve_context"
    )
    dropped = otelfeedback.log_feedback(trace_id, "relevance", 0.2, span_id=retriever.span_id)
    otelfeedback.delete_assessment(trace_id, dropped.assessment_id)
    expected = otelfeedback.log_expectation(trace_id, "expected_response", "Projects, Registry")
    otelfeedback.flush()
    otelfeedback.reset()
    ids = {
        "original": original.assessment_id,
        "override": override.assessment_id,
        "expected": expected.assessment_id,
        "retriever": retriever.span_id,
    }
    yield store, trace_id, ids


def replay(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["bridge", "replay", *args]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_replay_sends_a_store_to_phoenix(  # type: ignore[no-untyped-def]
    phoenix: Server, phoenix_project: str, history, capsys
) -> None:
    store, trace_id, ids = history
    out = replay(
        capsys, "--store", str(store), "--to", "phoenix", phoenix.url, "--project", phoenix_project
    )
    assert "0 failed" in out
    api = Phoenix(phoenix.url, phoenix_project)
    spans = api.spans(trace_id, 3)
    assert {s["span_kind"] for s in spans.values()} == {"CHAIN", "RETRIEVER", "LLM"}
    annotations = api.trace_annotations(trace_id, lambda a: len(a) == 2)
    by_id = {a["identifier"]: a for a in annotations}
    assert set(by_id) == {ids["override"], ids["expected"]}  # the overridden one is gone
    assert by_id[ids["override"]]["result"]["label"] == "true"
    assert api.span_annotations(ids["retriever"], lambda a: a == []) == []


def test_replay_sends_a_store_to_mlflow_and_twice_is_harmless(  # type: ignore[no-untyped-def]
    mlflow: Server, mlflow_experiment: str, history, capsys
) -> None:
    store, trace_id, ids = history
    args = [
        "--store",
        str(store),
        "--to",
        "mlflow",
        mlflow.url,
        "--experiment-id",
        mlflow_experiment,
    ]
    replay(capsys, *args)
    api = MLflow(mlflow.url)
    assessments = api.assessments(trace_id)
    assert set(assessments) == {ids["original"], ids["override"], ids["expected"]}
    assert assessments[ids["original"]]["valid"] is False
    assert assessments[ids["override"]]["overrides"] == ids["original"]
    assert set(api.spans(trace_id)) == {"my_chatbot", "retrieve_context", "chat gpt-4o-mini"}

    replay(capsys, *args)
    # The same assessments, no duplicates (MLflow stamps a new last_update_time on a PATCH).
    again = api.assessments(trace_id)
    for found in (assessments, again):
        for assessment in found.values():
            assessment.pop("last_update_time")
    assert again == assessments
