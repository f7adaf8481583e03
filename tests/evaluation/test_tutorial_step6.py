"""The tutorial's step 6 as written (our names), end to end after steps 1-5, offline: the
chatbot and the judge both talk to FakeOpenAIServer through the real openai client."""

from __future__ import annotations

import pytest

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType
from otelfeedback import semconv as sc
from otelfeedback.testing import FakeOpenAIServer
from tests.evaluation.conftest import ANSWER, EXPECTED, Chatbot, judge_requests, user_prompt

IMPROVED = ANSWER + " It offers experiment tracking, Projects and the Model Registry."


def steps_1_and_2(chatbot: Chatbot) -> str:
    chatbot.server.reply(ANSWER)
    chatbot.my_chatbot("What is MLflow?")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    otelfeedback.log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale="Missing details about MLflow's key features like Projects and Model Registry",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"),
    )
    return trace_id


def test_step_6_scores_the_app_against_the_experts_expected_response(
    chatbot: Chatbot, fake: FakeOpenAIServer
) -> None:
    trace_id = steps_1_and_2(chatbot)
    # Step 5's outcome: an expert's ground truth on the trace (a HUMAN expectation).
    otelfeedback.log_expectation(
        trace_id,
        "expected_response",
        EXPECTED,
        source=AssessmentSource(AssessmentSourceType.HUMAN, "expert_1"),
    )

    # Step 6, as written.
    from otelfeedback.scorers import Correctness

    labeled_traces = otelfeedback.search_traces("expectation.expected_response IS NOT NULL")
    fake.reply(IMPROVED)  # what the app answers when evaluate() calls it again
    eval_results = otelfeedback.evaluate(
        data=labeled_traces,
        predict_fn=chatbot.my_chatbot,  # The app we created in Step 1
        scorers=[Correctness()],  # Compares outputs to expected_response
    )

    assert eval_results.metrics == {"correctness/mean": 1.0}
    assert eval_results.passed == [True]
    row = eval_results.rows[0]
    assert row.inputs == {"user_question": "What is MLflow?"}
    assert row.outputs == IMPROVED and row.expectations == {"expected_response": EXPECTED}
    # The judge saw the question, the app's new answer and the expert's answer.
    (judged,) = judge_requests(fake)
    prompt = user_prompt(judged)
    for text in ("What is MLflow?", IMPROVED, EXPECTED):
        assert text in prompt
    # predict_fn made a new trace, tied to the run; the result is feedback on it.
    assert row.trace_id is not None and row.trace_id != trace_id
    assert [t.trace_id for t in otelfeedback.search_traces(run_id=eval_results.run_id)] == [
        row.trace_id
    ]
    new = otelfeedback.get_trace(row.trace_id)
    assert new.root_span is not None and new.root_span.name.endswith("my_chatbot")
    (result,) = new.search_assessments("correctness")
    assert result.value == "yes" and result.rationale
    assert result.source == AssessmentSource(AssessmentSourceType.LLM_JUDGE, "openai:/gpt-4o-mini")
    assert result.metadata is not None
    assert result.metadata[sc.RUN_ID] == eval_results.run_id
    assert result.metadata[sc.JUDGE_MODEL] == "openai:/gpt-4o-mini"
    assert result.metadata[sc.PROMPT_HASH] == Correctness().prompt_hash
    # The labeled trace is left as it was.
    old = otelfeedback.get_trace(trace_id)
    assert {a.name for a in old.assessments} == {"user_feedback", "expected_response"}
    # The run is recorded, with what it used.
    run = otelfeedback.evaluation.get_run(eval_results.run_id)
    assert run.status == "finished" and run.predict_fn == "my_chatbot"
    assert run.data_source == {"type": "traces", "rows": 1, "dataset": None}
    assert run.metrics == eval_results.metrics and run.errors == {}
    (scorer,) = run.scorers
    assert scorer["name"] == "correctness" and scorer["judge_model"] == "openai:/gpt-4o-mini"
    assert scorer["prompt_hash"] == Correctness().prompt_hash


def test_step_6_reports_an_answer_that_misses_the_expected_facts(
    chatbot: Chatbot, fake: FakeOpenAIServer
) -> None:
    trace_id = steps_1_and_2(chatbot)
    otelfeedback.log_expectation(trace_id, "expected_response", EXPECTED)
    from otelfeedback.scorers import Correctness

    labeled = otelfeedback.search_traces("expectation.expected_response IS NOT NULL")
    fake.reply("I am not sure, sorry.")
    result = otelfeedback.evaluate(
        data=labeled, predict_fn=chatbot.my_chatbot, scorers=[Correctness()]
    )
    assert result.metrics == {"correctness/mean": 0.0}
    assert result.passed == [False]
    assert result.rows[0].results[0].value == "no"


def test_step_6_as_written_with_a_labeling_session(
    chatbot: Chatbot, fake: FakeOpenAIServer
) -> None:
    """Steps 5 and 6 with the labeling session's traces (runs once labeling has landed)."""
    labeling = pytest.importorskip("otelfeedback.labeling")
    trace_id = steps_1_and_2(chatbot)
    accuracy = labeling.create_label_schema(
        name="response_accuracy",
        type="feedback",
        title="Is the response factually accurate?",
        input=labeling.InputCategorical(options=["Accurate", "Partially Accurate", "Inaccurate"]),
        overwrite=True,
    )
    ideal = labeling.create_label_schema(
        name="expected_response",
        type="expectation",
        title="What would be the ideal response?",
        input=labeling.InputText(),
        overwrite=True,
    )
    labeling_session = labeling.create_labeling_session(
        name="quickstart_review", label_schemas=[accuracy.name, ideal.name]
    )
    labeling_session.add_traces(otelfeedback.search_traces(max_results=1))
    # The expert's labels are ordinary assessments on the trace.
    otelfeedback.log_expectation(
        trace_id,
        "expected_response",
        EXPECTED,
        source=AssessmentSource(AssessmentSourceType.HUMAN, "expert_1"),
    )

    from otelfeedback.scorers import Correctness

    labeled_traces = otelfeedback.search_traces(labeling_session=labeling_session.name)
    fake.reply(IMPROVED)
    eval_results = otelfeedback.evaluate(
        data=labeled_traces, predict_fn=chatbot.my_chatbot, scorers=[Correctness()]
    )
    assert eval_results.metrics == {"correctness/mean": 1.0}
