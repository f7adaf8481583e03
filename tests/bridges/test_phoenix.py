"""The tutorial's steps 1-2 exported to a real Arize Phoenix server, read back through
Phoenix's own REST API: the spans as Phoenix understands them, and the end user's feedback as
a native Phoenix annotation; overrides, updates and deletes reflected; late feedback leaving
the trace as it was."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType
from otelfeedback.bridges import PhoenixBridge
from tests.bridges.readback import Phoenix
from tests.bridges.servers import Server
from tests.bridges.tutorial import ANSWER, QUESTION, RATIONALE, end_user_feedback, step_1

pytestmark = pytest.mark.backends


@pytest.fixture
def api(phoenix: Server, phoenix_project: str) -> Phoenix:
    return Phoenix(phoenix.url, phoenix_project)


def configure(phoenix: Server, project: str, store: Path) -> otelfeedback.Configuration:
    """The one line a user adds: the OTLP endpoint and the bridge."""
    return otelfeedback.configure(
        service_name="tutorial-chatbot",
        store=store,
        otlp_endpoint=phoenix.url,
        otlp_headers={"x-project-name": project},
        bridge="phoenix",
    )


def _one(annotations: list[dict[str, Any]]) -> bool:
    return len(annotations) == 1


def test_tutorial_steps_1_and_2_show_natively_in_phoenix(  # type: ignore[no-untyped-def]
    phoenix, phoenix_project, api, fake_openai, tmp_path
) -> None:
    config = configure(phoenix, phoenix_project, tmp_path)
    trace_id = step_1(fake_openai.base_url)
    feedback = end_user_feedback(trace_id)
    assert otelfeedback.flush(60)

    spans = api.spans(trace_id, 3)
    assert set(spans) == {"my_chatbot", "retrieve_context", "chat gpt-4o-mini"}
    root, retriever, llm = spans["my_chatbot"], spans["retrieve_context"], spans["chat gpt-4o-mini"]
    assert root["parent_id"] is None and root["span_kind"] == "CHAIN"
    assert root["status_code"] == "OK"
    assert QUESTION in root["attributes"]["input.value"]
    assert root["attributes"]["output.value"] == ANSWER
    assert (
        retriever["span_kind"] == "RETRIEVER"
        and retriever["parent_id"] == root["context"]["span_id"]
    )
    assert llm["span_kind"] == "LLM" and llm["parent_id"] == root["context"]["span_id"]
    assert llm["attributes"]["llm.model_name"] == "gpt-4o-mini"
    recorded = otelfeedback.get_trace(trace_id).spans
    usage = next(s for s in recorded if s.name == "chat gpt-4o-mini").attributes
    # The lean profile sends gen_ai.* only; Phoenix derives its llm.* model and token counts.
    assert not {"llm.model_name", "llm.token_count.prompt"} & set(usage)
    prompt, completion = usage["gen_ai.usage.input_tokens"], usage["gen_ai.usage.output_tokens"]
    assert llm["attributes"]["llm.token_count.prompt"] == prompt
    assert llm["attributes"]["llm.token_count.completion"] == completion
    assert api.trace(trace_id)["token_count_total"] == prompt + completion

    [annotation] = api.trace_annotations(trace_id, _one)
    assert annotation["name"] == "user_feedback"
    assert annotation["annotator_kind"] == "HUMAN"
    assert annotation["result"] == {"label": "false", "score": 0.0, "explanation": RATIONALE}
    assert annotation["metadata"]["otelfeedback.source_id"] == "enduser_123"
    assert annotation["identifier"] == feedback.assessment_id
    # The feedback arrived natively: no carrier span in the trace.
    assert all(span["span_kind"] != "EVALUATOR" for span in api.spans(trace_id, 3).values())
    counters = config.stats()["PhoenixBridge"]["assessments"]
    assert counters["written"] == 1 and counters["failed"] == counters["dropped"] == 0


def test_override_and_delete_are_reflected_in_phoenix(  # type: ignore[no-untyped-def]
    phoenix, phoenix_project, api, fake_openai, tmp_path
) -> None:
    configure(phoenix, phoenix_project, tmp_path)
    trace_id = step_1(fake_openai.base_url)
    original = end_user_feedback(trace_id)
    otelfeedback.flush(60)
    api.trace_annotations(trace_id, _one)

    override = otelfeedback.override_feedback(
        trace_id, original.assessment_id, True, rationale="A reviewer found it complete"
    )
    otelfeedback.flush(60)
    [shown] = api.trace_annotations(
        trace_id, lambda a: [x["identifier"] for x in a] == [override.assessment_id]
    )
    assert shown["result"]["label"] == "true" and shown["result"]["score"] == 1.0
    assert shown["result"]["explanation"] == "A reviewer found it complete"

    otelfeedback.delete_assessment(trace_id, override.assessment_id)
    otelfeedback.flush(60)
    [back] = api.trace_annotations(
        trace_id, lambda a: [x["identifier"] for x in a] == [original.assessment_id]
    )
    assert back["result"] == {"label": "false", "score": 0.0, "explanation": RATIONALE}


def test_span_feedback_updates_and_expectations_in_phoenix(  # type: ignore[no-untyped-def]
    phoenix, phoenix_project, api, fake_openai, tmp_path
) -> None:
    configure(phoenix, phoenix_project, tmp_path)
    trace_id = step_1(fake_openai.base_url)
    retriever = next(
        s for s in otelfeedback.get_trace(trace_id).spans if s.name == "retrieve_context"
    )
    judge = AssessmentSource(AssessmentSourceType.LLM_JUDGE, "relevance-judge")
    relevance = otelfeedback.log_feedback(
        trace_id, "relevance", 0.4, span_id=retriever.span_id, source=judge
    )
    otelfeedback.log_expectation(
        trace_id, "expected_response", "MLflow has Projects and a Model Registry."
    )
    otelfeedback.flush(60)
    [span_note] = api.span_annotations(retriever.span_id, _one)
    assert span_note["name"] == "relevance" and span_note["annotator_kind"] == "LLM"
    assert span_note["result"]["score"] == 0.4
    [expected] = api.trace_annotations(trace_id, _one)
    assert expected["name"] == "expected_response"
    assert expected["result"]["label"] == "MLflow has Projects and a Model Registry."
    assert expected["metadata"]["otelfeedback.kind"] == "expectation"

    otelfeedback.update_assessment(
        trace_id, relevance.assessment_id, value=0.9, rationale="on topic"
    )
    otelfeedback.flush(60)
    [updated] = api.span_annotations(retriever.span_id, lambda a: a[0]["result"]["score"] == 0.9)
    assert updated["result"]["explanation"] == "on topic"

    otelfeedback.delete_assessment(trace_id, relevance.assessment_id)
    otelfeedback.flush(60)
    assert api.span_annotations(retriever.span_id, lambda a: a == []) == []


def test_late_feedback_leaves_the_trace_in_phoenix_as_it_was(  # type: ignore[no-untyped-def]
    phoenix, phoenix_project, api, fake_openai, tmp_path
) -> None:
    configure(phoenix, phoenix_project, tmp_path)
    trace_id = step_1(fake_openai.base_url)
    otelfeedback.flush(60)
    before = api.trace(trace_id)
    span_ids = {s["context"]["span_id"] for s in api.spans(trace_id, 3).values()}
    time.sleep(1.5)  # the user thinks it over
    end_user_feedback(trace_id)
    otelfeedback.flush(60)
    api.trace_annotations(trace_id, _one)
    after = api.trace(trace_id)
    assert (after["start_time"], after["end_time"]) == (before["start_time"], before["end_time"])
    assert {s["context"]["span_id"] for s in api.spans(trace_id, 3).values()} == span_ids


def test_feedback_on_a_running_trace_through_an_exporter_object(  # type: ignore[no-untyped-def]
    phoenix, phoenix_project, api, tmp_path
) -> None:
    bridge = PhoenixBridge(phoenix.url, project=phoenix_project)
    config = otelfeedback.configure(store=tmp_path, exporters=[bridge])

    @otelfeedback.trace(name="handle")
    def handle(question: str) -> str:
        # Feedback given while the request is still running: an event on the live root.
        trace_id = otelfeedback.get_current_trace_id()
        assert trace_id is not None
        otelfeedback.log_feedback(
            trace_id,
            "guardrail",
            "passed",
            source=AssessmentSource(AssessmentSourceType.CODE, "checker"),
        )
        return "ok"

    handle("hi")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    assert otelfeedback.flush(60)
    [annotation] = api.trace_annotations(trace_id, _one)
    assert annotation["name"] == "guardrail" and annotation["annotator_kind"] == "CODE"
    assert annotation["result"]["label"] == "passed"
    assert set(api.spans(trace_id, 1)) == {"handle"}
    assert config.stats()["PhoenixBridge"]["assessments"]["written"] == 1


def test_many_traces_of_feedback_all_arrive(  # type: ignore[no-untyped-def]
    phoenix, phoenix_project, api, tmp_path
) -> None:
    configure(phoenix, phoenix_project, tmp_path)

    @otelfeedback.trace
    def answer(i: int) -> int:
        return i

    trace_ids = []
    for i in range(20):
        answer(i)
        trace_id = otelfeedback.get_last_active_trace_id()
        assert trace_id is not None
        trace_ids.append(trace_id)
        otelfeedback.log_feedback(trace_id, "thumbs", i % 2 == 0)
    assert otelfeedback.flush(60)
    for i, trace_id in enumerate(trace_ids):
        [annotation] = api.trace_annotations(trace_id, _one)
        assert annotation["result"]["score"] == (1.0 if i % 2 == 0 else 0.0)


def test_plain_otlp_late_feedback_without_a_store_keeps_the_trace_intact(  # type: ignore[no-untyped-def]
    phoenix, phoenix_project, api, fake_openai
) -> None:
    # No bridge and no store: the feedback reaches Phoenix only as a carrier span. It must
    # not stretch the trace, add a trace row, or dangle from a span the trace does not have.
    otelfeedback.configure(
        store="", otlp_endpoint=phoenix.url, otlp_headers={"x-project-name": phoenix_project}
    )
    trace_id = step_1(fake_openai.base_url)
    assert otelfeedback.flush(60)
    before = api.trace(trace_id)
    time.sleep(1.5)
    end_user_feedback(trace_id)
    assert otelfeedback.flush(60)
    spans = api.spans(trace_id, 4)
    carrier = spans["otelfeedback.assessment"]
    assert carrier["span_kind"] == "EVALUATOR"
    assert carrier["parent_id"] == spans["my_chatbot"]["context"]["span_id"]
    after = api.trace(trace_id)
    assert (after["start_time"], after["end_time"]) == (before["start_time"], before["end_time"])
    rows = api.traces()
    assert [row["trace_id"] for row in rows] == [trace_id]
