"""Step 5 of the human-feedback tutorial as written, with our names: define what to collect,
create a labeling session, add the step-2 trace, share the link; an expert opens it and
labels; the labels are the ground truth step 6 reads back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType
from tests.server.conftest import RATIONALE, my_chatbot
from tests.server.live import LiveServer
from tests.server.review_client import ReviewClient


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    from otelfeedback.server import create_app

    store = tmp_path / "store"
    otelfeedback.configure(store=store, service_name="chatbot")
    server = LiveServer(create_app(store))
    monkeypatch.setenv("OTELFEEDBACK_SERVER_URL", server.url)
    yield server
    server.close()


def steps_1_and_2() -> str:
    my_chatbot("What is MLflow?")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    otelfeedback.log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale=RATIONALE,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"),
    )
    return trace_id


def test_step_5_as_written_then_an_expert_labels_from_the_link(
    live: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_id = steps_1_and_2()

    # --- step 5, as in the tutorial (our module names) ------------------------------------
    from otelfeedback.labeling import (
        InputCategorical,
        InputText,
        create_label_schema,
        create_labeling_session,
    )

    # Define what feedback to collect
    accuracy_schema = create_label_schema(
        name="response_accuracy",
        type="feedback",
        title="Is the response factually accurate?",
        input=InputCategorical(options=["Accurate", "Partially Accurate", "Inaccurate"]),
        overwrite=True,
    )
    ideal_response_schema = create_label_schema(
        name="expected_response",
        type="expectation",
        title="What would be the ideal response?",
        input=InputText(),
        overwrite=True,
    )
    # Create a labeling session
    labeling_session = create_labeling_session(
        name="quickstart_review",
        label_schemas=[accuracy_schema.name, ideal_response_schema.name],
    )
    # Add your trace to the session
    # Get the most recent trace from the current experiment
    traces = otelfeedback.search_traces(
        max_results=1  # Gets the most recent trace
    )
    labeling_session.add_traces(traces)
    # Share with reviewers
    print("Trace sent for review!")
    print(f"Share this link with reviewers: {labeling_session.url}")
    # ---------------------------------------------------------------------------------------

    printed = capsys.readouterr().out
    assert f"Share this link with reviewers: {live.url}/review/" in printed
    assert [i.trace_id for i in labeling_session.items()] == [trace_id]

    # The expert opens the link: no account, no install; says who they are.
    expert = ReviewClient(live.url)
    start = expert.get(labeling_session.url)
    assert start.status == 200 and "quickstart_review" in start.text
    item = expert.follow(
        expert.follow(
            expert.post(
                labeling_session.url.removeprefix(live.url) + "/start",
                {"reviewer": "expert@example.com"},
            )
        )
    )
    assert item.status == 200
    page = item.text
    # the trace with the question and response, and the end user's feedback
    assert "What is MLflow?" in page and "MLflow is an open-source platform for ML." in page
    assert RATIONALE.replace("'", "&#39;") in page and "enduser_123" in page
    assert "Is the response factually accurate?" in page and "1 of 1" in page
    # assess and give the correct answer, submit as ground truth
    done = expert.follow(
        expert.post(
            item.url,
            {
                "action": "submit",
                "label-0": "Partially Accurate",
                "label-1": "MLflow also has Projects, the Model Registry and Tracking.",
            },
        )
    )
    assert done.status == 200 and "All done" in done.text

    # Step 6 reads the expert's expectation back from the session's traces.
    labeled_traces = otelfeedback.search_traces(labeling_session=labeling_session)
    assert [t.info.trace_id for t in labeled_traces] == [trace_id]
    expectations = {
        a.name: a.value for a in labeled_traces[0].assessments if a.kind == "expectation"
    }
    assert expectations == {
        "expected_response": "MLflow also has Projects, the Model Registry and Tracking."
    }
    accuracy = [a for a in labeled_traces[0].assessments if a.name == "response_accuracy"]
    assert [(a.value, a.source.source_id) for a in accuracy] == [
        ("Partially Accurate", "expert@example.com")
    ]
