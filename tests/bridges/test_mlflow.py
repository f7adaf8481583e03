"""The tutorial's steps 1-2 exported to a real MLflow tracking server, read back through
MLflow's own REST API: span types, the root's inputs and outputs, model and tokens, and the
end user's feedback as a native MLflow assessment; overrides, updates and deletes reflected;
late feedback leaving the trace's duration as it was."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType
from otelfeedback.bridges import MLflowBridge
from tests.bridges.readback import MLflow, seconds
from tests.bridges.servers import Server
from tests.bridges.tutorial import ANSWER, QUESTION, RATIONALE, end_user_feedback, step_1

pytestmark = pytest.mark.backends


@pytest.fixture
def api(mlflow: Server) -> MLflow:
    return MLflow(mlflow.url)


def configure(mlflow: Server, experiment: str, store: Path) -> otelfeedback.Configuration:
    """The one line a user adds: the OTLP endpoint (with MLflow's experiment header) and
    the bridge."""
    return otelfeedback.configure(
        service_name="tutorial-chatbot",
        store=store,
        otlp_endpoint=mlflow.url,
        otlp_headers={"x-mlflow-experiment-id": experiment},
        bridge="mlflow",
    )


def test_tutorial_steps_1_and_2_show_natively_in_mlflow(  # type: ignore[no-untyped-def]
    mlflow, mlflow_experiment, api, fake_openai, tmp_path
) -> None:
    config = configure(mlflow, mlflow_experiment, tmp_path)
    trace_id = step_1(fake_openai.base_url)
    feedback = end_user_feedback(trace_id)
    assert otelfeedback.flush(60)

    info = api.trace_info(trace_id)
    assert info["trace_location"]["mlflow_experiment"]["experiment_id"] == mlflow_experiment
    assert info["state"] == "OK"
    assert QUESTION in info["request_preview"]
    assert ANSWER in info["response_preview"]
    spans = api.spans(trace_id)
    assert set(spans) == {"my_chatbot", "retrieve_context", "chat gpt-4o-mini"}
    root, retriever, llm = spans["my_chatbot"], spans["retrieve_context"], spans["chat gpt-4o-mini"]
    assert not root.get("parent_span_id")
    assert root["attributes"]["mlflow.spanType"] == "CHAIN"
    assert retriever["attributes"]["mlflow.spanType"] == "RETRIEVER"
    assert llm["attributes"]["mlflow.spanType"] == "LLM"
    assert retriever["parent_span_id"] == llm["parent_span_id"] == root["span_id"]
    assert root["attributes"]["mlflow.spanOutputs"] == ANSWER
    assert llm["attributes"]["gen_ai.request.model"] == "gpt-4o-mini"
    recorded = otelfeedback.get_trace(trace_id).spans
    usage = next(s for s in recorded if s.name == "chat gpt-4o-mini").attributes
    assert "llm.token_count.prompt" not in usage  # the lean profile: MLflow reads gen_ai.*
    tokens = info["trace_metadata"]["mlflow.trace.tokenUsage"]
    assert f'"input_tokens": {usage["gen_ai.usage.input_tokens"]}' in tokens
    assert f'"output_tokens": {usage["gen_ai.usage.output_tokens"]}' in tokens

    assessments = api.assessments(trace_id)
    assert list(assessments) == [feedback.assessment_id]  # our id is MLflow's id
    native = assessments[feedback.assessment_id]
    assert native["assessment_name"] == "user_feedback"
    assert native["feedback"] == {"value": False}
    assert native["rationale"] == RATIONALE
    assert native["source"] == {"source_type": "HUMAN", "source_id": "enduser_123"}
    assert native["valid"] is True and "span_id" not in native
    counters = config.stats()["MLflowBridge"]["assessments"]
    assert counters["written"] == 1 and counters["failed"] == counters["dropped"] == 0


def test_override_and_delete_are_reflected_in_mlflow(  # type: ignore[no-untyped-def]
    mlflow, mlflow_experiment, api, fake_openai, tmp_path
) -> None:
    configure(mlflow, mlflow_experiment, tmp_path)
    trace_id = step_1(fake_openai.base_url)
    original = end_user_feedback(trace_id)
    override = otelfeedback.override_feedback(
        trace_id, original.assessment_id, True, rationale="A reviewer found it complete"
    )
    assert otelfeedback.flush(60)
    assessments = api.assessments(trace_id)
    assert assessments[original.assessment_id]["valid"] is False
    new = assessments[override.assessment_id]
    assert new["valid"] is True and new["overrides"] == original.assessment_id
    assert new["feedback"] == {"value": True}
    assert new["source"]["source_type"] == "HUMAN"

    otelfeedback.delete_assessment(trace_id, override.assessment_id)
    assert otelfeedback.flush(60)
    assessments = api.assessments(trace_id)
    assert list(assessments) == [original.assessment_id]
    assert assessments[original.assessment_id]["valid"] is True


def test_span_feedback_updates_and_expectations_in_mlflow(  # type: ignore[no-untyped-def]
    mlflow, mlflow_experiment, api, fake_openai, tmp_path
) -> None:
    configure(mlflow, mlflow_experiment, tmp_path)
    trace_id = step_1(fake_openai.base_url)
    retriever = next(
        s for s in otelfeedback.get_trace(trace_id).spans if s.name == "retrieve_context"
    )
    judge = AssessmentSource(AssessmentSourceType.LLM_JUDGE, "relevance-judge")
    relevance = otelfeedback.log_feedback(
        trace_id,
        "relevance",
        0.4,
        span_id=retriever.span_id,
        source=judge,
        metadata={"judge_model": "gpt-4o", "attempt": 1},
    )
    expected = otelfeedback.log_expectation(
        trace_id, "expected_facts", ["Projects", "Model Registry"]
    )
    otelfeedback.update_assessment(
        trace_id, relevance.assessment_id, value=0.9, rationale="on topic"
    )
    assert otelfeedback.flush(60)
    assessments = api.assessments(trace_id)
    judged = assessments[relevance.assessment_id]
    assert judged["span_id"] == retriever.span_id
    assert judged["source"] == {"source_type": "LLM_JUDGE", "source_id": "relevance-judge"}
    assert judged["feedback"] == {"value": 0.9} and judged["rationale"] == "on topic"
    assert judged["metadata"] == {"judge_model": "gpt-4o", "attempt": "1"}
    truth = assessments[expected.assessment_id]
    assert truth["assessment_name"] == "expected_facts"
    assert "Model Registry" in str(truth["expectation"])

    otelfeedback.delete_assessment(trace_id, relevance.assessment_id)
    assert otelfeedback.flush(60)
    assert list(api.assessments(trace_id)) == [expected.assessment_id]


def test_late_feedback_leaves_the_trace_duration_in_mlflow_as_it_was(  # type: ignore[no-untyped-def]
    mlflow, mlflow_experiment, api, fake_openai, tmp_path
) -> None:
    configure(mlflow, mlflow_experiment, tmp_path)
    trace_id = step_1(fake_openai.base_url)
    assert otelfeedback.flush(60)
    before = api.trace_info(trace_id)
    time.sleep(1.5)  # the user thinks it over
    end_user_feedback(trace_id)
    assert otelfeedback.flush(60)
    after = api.trace_info(trace_id)
    assert len(after["assessments"]) == 1
    assert seconds(after["execution_duration"]) == seconds(before["execution_duration"]) < 1.0
    assert after["request_time"] == before["request_time"]
    assert set(api.spans(trace_id)) == {"my_chatbot", "retrieve_context", "chat gpt-4o-mini"}


def test_an_exporter_object_with_its_experiment(  # type: ignore[no-untyped-def]
    mlflow, mlflow_experiment, api, tmp_path
) -> None:
    otelfeedback.configure(
        store=tmp_path, exporters=[MLflowBridge(mlflow.url, experiment_id=mlflow_experiment)]
    )

    @otelfeedback.trace(name="handle")
    def handle(question: str) -> str:
        trace_id = otelfeedback.get_current_trace_id()
        assert trace_id is not None
        source = AssessmentSource(AssessmentSourceType.CODE, "checker")
        otelfeedback.log_feedback(trace_id, "guardrail", {"passed": True}, source=source)
        return "ok"

    handle("hi")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    assert otelfeedback.flush(60)
    info = api.trace_info(trace_id)
    assert info["trace_location"]["mlflow_experiment"]["experiment_id"] == mlflow_experiment
    [native] = info["assessments"]
    assert native["assessment_name"] == "guardrail"
    assert native["feedback"] == {"value": {"passed": True}}


def test_plain_otlp_late_feedback_without_a_store_keeps_the_trace_intact(  # type: ignore[no-untyped-def]
    mlflow, mlflow_experiment, api, fake_openai
) -> None:
    # No bridge and no store: the feedback reaches MLflow only as a carrier span. It must not
    # stretch the trace's duration or become a second root.
    otelfeedback.configure(
        store="",
        otlp_endpoint=mlflow.url,
        otlp_headers={"x-mlflow-experiment-id": mlflow_experiment},
    )
    trace_id = step_1(fake_openai.base_url)
    assert otelfeedback.flush(60)
    before = api.trace_info(trace_id)
    time.sleep(1.5)
    end_user_feedback(trace_id)
    assert otelfeedback.flush(60)
    after = api.trace_info(trace_id)
    assert seconds(after["execution_duration"]) == seconds(before["execution_duration"])
    spans = api.spans(trace_id)
    roots = [name for name, span in spans.items() if not span.get("parent_span_id")]
    assert roots == ["my_chatbot"]
    carrier = spans["otelfeedback.assessment"]
    assert carrier["parent_span_id"] == spans["my_chatbot"]["span_id"]
    assert carrier["attributes"]["mlflow.spanType"] == "EVALUATOR"
