"""Each built-in judge against the fake server through the real openai client: the prompt
holds what the judge needs, the answer asks for structured output, the verdict is read; and
every way a judge call fails becomes an error assessment, never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest

import otelfeedback
from otelfeedback import AssessmentSourceType, ConfigurationError, InvalidArgumentError
from otelfeedback import semconv as sc
from otelfeedback.scorers import (
    Correctness,
    ExpectationsGuidelines,
    Guidelines,
    RelevanceToQuery,
    RetrievalGroundedness,
    RetrievalRelevance,
    RetrievalSufficiency,
    Safety,
    make_judge,
)
from otelfeedback.testing import Failure, FakeOpenAIServer, JudgeRequest, Reply, Verdict
from tests.evaluation.conftest import ANSWER, CONTEXT, EXPECTED, judge_requests, user_prompt

QUESTION = {"user_question": "What is MLflow?"}


def sections(request: Any) -> dict[str, str]:
    import re

    return dict(re.findall(r"<([a-z_]+)>\n(.*?)\n</\1>", user_prompt(request), re.S))


@pytest.mark.parametrize(
    ("judge", "row", "needs"),
    [
        (
            Correctness(),
            {
                "inputs": QUESTION,
                "outputs": ANSWER,
                "expectations": {"expected_response": EXPECTED},
            },
            {"request": "What is MLflow?", "response": ANSWER, "expected_response": EXPECTED},
        ),
        (
            Correctness(),
            {
                "inputs": QUESTION,
                "outputs": ANSWER,
                "expectations": {"expected_facts": ["open source", "has a Model Registry"]},
            },
            {"expected_facts": "- open source\n- has a Model Registry"},
        ),
        (RelevanceToQuery(), {"inputs": QUESTION, "outputs": ANSWER}, {"request": "MLflow"}),
        (Safety(), {"inputs": QUESTION, "outputs": ANSWER}, {"response": ANSWER}),
        (
            Guidelines(["Answer in English", "Be polite"]),
            {"inputs": QUESTION, "outputs": ANSWER},
            {"guidelines": "- Answer in English\n- Be polite", "response": ANSWER},
        ),
        (
            ExpectationsGuidelines(),
            {
                "inputs": QUESTION,
                "outputs": ANSWER,
                "expectations": {"guidelines": "Cite a source"},
            },
            {"guidelines": "Cite a source", "request": "What is MLflow?"},
        ),
    ],
    ids=["correctness", "correctness-facts", "relevance", "safety", "guidelines", "row-guidelines"],
)
def test_each_judge_sends_what_it_needs_and_reads_the_verdict(
    fake: FakeOpenAIServer, judge: Any, row: dict[str, Any], needs: dict[str, str]
) -> None:
    fake.judge = lambda request: Verdict("no", f"judged by {request.model}")
    (feedback,) = judge.normalize(judge(**{k: row.get(k) for k in judge.fields}))
    assert feedback.value == "no" and feedback.rationale == "judged by gpt-4o-mini"
    assert feedback.name == judge.name and feedback.error is None
    assert feedback.source.source_type == AssessmentSourceType.LLM_JUDGE
    assert feedback.source.source_id == "openai:/gpt-4o-mini"
    assert feedback.metadata == {
        sc.SCORER: judge.name,
        sc.JUDGE_MODEL: "openai:/gpt-4o-mini",
        sc.PROMPT_HASH: judge.prompt_hash,
    }
    (request,) = judge_requests(fake)
    fmt = request.body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["properties"]["result"]["enum"] == ["yes", "no"]
    found = sections(request)
    for tag, text in needs.items():
        assert text in found[tag], (tag, found)


def test_prompt_hashes_differ_per_judge_and_stay_stable() -> None:
    hashes = {
        type(j).__name__: j.prompt_hash for j in (Correctness(), Safety(), RelevanceToQuery())
    }
    assert len(set(hashes.values())) == 3
    assert all(len(h) == 12 for h in hashes.values())
    assert Correctness(name="other").prompt_hash == hashes["Correctness"]


def test_correctness_without_an_expected_answer_is_an_argument_error() -> None:
    with pytest.raises(InvalidArgumentError, match="expected_response' or 'expected_facts"):
        Correctness()(inputs=QUESTION, outputs=ANSWER, expectations={})


def test_guidelines_must_not_be_empty() -> None:
    with pytest.raises(InvalidArgumentError, match="guidelines"):
        Guidelines([])


def _rag_trace(chatbot: Any, nested: bool = False) -> Any:
    """A trace with two top-level retrievers (the second returns documents as dicts), and
    optionally one retriever nested inside the first."""

    @otelfeedback.trace(name="inner", span_type="RETRIEVER")
    def inner(query: str) -> str:
        return "nested document"

    @otelfeedback.trace(name="first", span_type="RETRIEVER")
    def first(query: str) -> str:
        if nested:
            inner(query)
        return CONTEXT

    @otelfeedback.trace(name="second", span_type="RETRIEVER")
    def second(query: str) -> list[dict[str, Any]]:
        return [
            {"page_content": "Doc A about MLflow tracking", "metadata": {"doc_uri": "a"}},
            {"content": "Doc B about cooking"},
            {"text": "Doc C about the Model Registry"},
        ]

    @otelfeedback.trace
    def app(user_question: str) -> str:
        first(user_question)
        second(user_question)
        return ANSWER

    app("What is MLflow?")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    return otelfeedback.get_trace(trace_id)


def test_retrieval_judges_read_the_top_level_retrievers(
    fake: FakeOpenAIServer, store: Path
) -> None:
    trace = _rag_trace(None, nested=True)
    retrievers = {s.name: s.span_id for s in trace.spans if s.span_type == "RETRIEVER"}

    grounded = RetrievalGroundedness()(outputs=ANSWER, trace=trace)
    assert [f.span_id for f in grounded] == [retrievers["first"], retrievers["second"]]
    assert [f.value for f in grounded] == ["yes", "no"]  # the fake's rule: shared key words
    first_prompt, second_prompt = (sections(r) for r in judge_requests(fake))
    assert first_prompt["context"] == f"[1] {CONTEXT}"
    assert "nested document" not in json.dumps(first_prompt)
    assert second_prompt["context"].startswith("[1] Doc A about MLflow tracking\n\n[2] Doc B")

    fake.reset()
    relevance = RetrievalRelevance()(inputs=QUESTION, trace=trace)
    assert [(f.span_id, f.metadata["chunk_index"]) for f in relevance] == [  # type: ignore[index]
        (retrievers["first"], 0),
        (retrievers["second"], 0),
        (retrievers["second"], 1),
        (retrievers["second"], 2),
    ]
    assert [f.value for f in relevance] == ["yes", "yes", "no", "no"]
    assert [sections(r)["document"] for r in judge_requests(fake)][2] == "Doc B about cooking"

    fake.reset()
    (sufficient,) = RetrievalSufficiency()(
        inputs=QUESTION, expectations={"expected_facts": ["tracking"]}, trace=trace
    )
    assert sufficient.span_id == retrievers["second"]  # the last top-level retriever
    assert sufficient.value == "yes"
    assert "expected_facts" in sections(judge_requests(fake)[0])


def test_a_trace_without_retriever_is_an_error_result(fake: FakeOpenAIServer, store: Path) -> None:
    @otelfeedback.trace
    def app(q: str) -> str:
        return "x"

    app("q")
    trace = otelfeedback.get_trace(otelfeedback.get_last_active_trace_id() or "")
    (result,) = RetrievalGroundedness()(outputs="x", trace=trace)
    assert result.error is not None and result.error.error_code == "NO_RETRIEVER_SPAN"
    assert judge_requests(fake) == []


def test_make_judge_fills_placeholders_and_types_the_value(fake: FakeOpenAIServer) -> None:
    polite = make_judge(
        "polite",
        "Is the answer {{ outputs }} to {{inputs}} polite?",
        feedback_value_type=bool,
    )
    assert polite.fields == ("inputs", "outputs")
    fake.judge = lambda request: Verdict(True, "friendly")
    result = polite(inputs=QUESTION, outputs="Sure, happy to help!")
    assert (result.value, result.rationale, result.name) == (True, "friendly", "polite")
    (request,) = judge_requests(fake)
    prompt = user_prompt(request)
    assert "<outputs>\nSure, happy to help!\n</outputs>" in prompt
    assert '"user_question": "What is MLflow?"' in prompt
    schema = request.body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["result"] == {"type": "boolean"}
    assert result.metadata is not None and result.metadata[sc.PROMPT_HASH] == polite.prompt_hash

    grade = make_judge("grade", "Grade {{ outputs }}", feedback_value_type=Literal["good", "bad"])
    fake.verdict("Bad", "meh")  # the raw answer, not fitted to the schema by the fake
    assert grade(outputs="x").value == "bad"
    scale = make_judge("scale", "Rate {{ outputs }} from 1 to 5", feedback_value_type=int)
    fake.judge = lambda request: Verdict("4", "ok")
    assert scale(outputs="x").value == 4


@pytest.mark.parametrize(
    ("instructions", "message"),
    [
        ("Is {{ trace }} fine?", r"unknown placeholder \{\{ trace \}\}"),
        ("Is {{ foo }} fine?", "unknown placeholder"),
        ("Is it fine?", "use at least one of"),
        ("", "non-empty"),
    ],
)
def test_make_judge_rejects_bad_instructions(instructions: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        make_judge("j", instructions)


def test_make_judge_rejects_an_unsupported_value_type() -> None:
    with pytest.raises(InvalidArgumentError, match="feedback_value_type"):
        make_judge("j", "{{ outputs }}", feedback_value_type=dict)


# -- failures ----------------------------------------------------------------------------------
def _ask(fake: FakeOpenAIServer) -> Any:
    return Safety()(outputs=ANSWER)


def _error_code(feedback: Any) -> str:
    assert feedback.value is None and feedback.error is not None, feedback
    assert feedback.source.source_id == "openai:/gpt-4o-mini"
    return str(feedback.error.error_code)


def test_a_server_error_after_retries_is_an_error_result(fake: FakeOpenAIServer) -> None:
    fake.push(Failure(500, retry_after=0.01), Failure(500, retry_after=0.01))
    result = _ask(fake)
    assert _error_code(result) == "JUDGE_HTTP_500"
    assert len(fake.requests) == 2  # the first call and one retry


def test_rate_limits_are_retried_with_backoff(fake: FakeOpenAIServer) -> None:
    fake.push(Failure(429, retry_after=0.01))
    result = _ask(fake)
    assert result.value == "yes" and result.error is None
    assert len(fake.requests) == 2


def test_a_timeout_is_an_error_result(
    fake: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_JUDGE_TIMEOUT", "0.2")
    monkeypatch.setenv("OTELFEEDBACK_JUDGE_MAX_RETRIES", "0")
    fake.push(Reply("late", delay=1.0))
    assert _error_code(_ask(fake)) == "JUDGE_TIMEOUT"


def test_a_malformed_response_body_is_an_error_result(fake: FakeOpenAIServer) -> None:
    fake.reply_malformed()
    assert _error_code(_ask(fake)) == "JUDGE_MALFORMED_RESPONSE"


@pytest.mark.parametrize("answer", ["I think it is fine", '{"rationale": "ok"}', "", "{broken"])
def test_an_answer_without_a_verdict_is_an_error_result(
    fake: FakeOpenAIServer, answer: str
) -> None:
    fake.reply(answer)
    assert _error_code(_ask(fake)) == "JUDGE_MALFORMED_ANSWER"


def test_a_verdict_outside_the_schema_is_an_error_result(fake: FakeOpenAIServer) -> None:
    fake.verdict("maybe", "unsure")
    result = _ask(fake)
    assert _error_code(result) == "JUDGE_MALFORMED_ANSWER"
    assert result.error is not None and "maybe" in (result.error.error_message or "")


def test_a_refusal_is_an_error_result(fake: FakeOpenAIServer) -> None:
    fake.push(Reply(refusal="I can't help with that."))
    result = _ask(fake)
    assert _error_code(result) == "JUDGE_REFUSED"
    assert result.error is not None and "can't help" in (result.error.error_message or "")


def test_an_unreachable_server_is_an_error_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.server.live import free_port

    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("OTELFEEDBACK_JUDGE_MAX_RETRIES", "0")
    assert _error_code(Safety()(outputs="x")) == "JUDGE_UNREACHABLE"


def test_a_server_without_structured_output_gets_asked_for_plain_json(
    fake: FakeOpenAIServer,
) -> None:
    fake.push(
        Failure(400, message="response_format json_schema is not supported by this model"),
        Reply("```\nResult: no\nRationale: It praises violence.\n```"),
    )
    result = _ask(fake)
    assert (result.value, result.rationale) == ("no", "It praises violence.")
    first, second = fake.requests
    assert "response_format" in first.body and "response_format" not in second.body


def test_judge_model_strings(fake: FakeOpenAIServer) -> None:
    judge = Safety(model="openai:/llama3.1:8b")
    assert judge.judge_model == "openai:/llama3.1:8b"
    judge(outputs="x")
    assert fake.requests[-1].body["model"] == "llama3.1:8b"
    with pytest.raises(InvalidArgumentError, match="provider 'anthropic' is not supported"):
        Safety(model="anthropic:/claude")
    with pytest.raises(InvalidArgumentError, match="openai:/gpt-4o-mini"):
        Safety(model="gpt-4o-mini")


def test_the_default_judge_model_comes_from_configure_then_the_environment(
    fake: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_JUDGE_MODEL", "openai:/from-env")
    assert Correctness().judge_model == "openai:/from-env"
    otelfeedback.configure(store=tmp_path / "s", judge_model="openai:/gpt-4.1-mini")
    judge = Safety()
    judge(outputs="x")
    assert judge.judge_model == "openai:/gpt-4.1-mini"
    assert fake.requests[-1].body["model"] == "gpt-4.1-mini"
    with pytest.raises(ConfigurationError, match="judge_model"):
        otelfeedback.configure(store=tmp_path / "s", judge_model="")


def test_no_api_key_and_no_server_is_a_configuration_error(tmp_path: Path) -> None:
    otelfeedback.configure(store=tmp_path / "s")
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        otelfeedback.evaluate(data=[{"inputs": {"q": 1}, "outputs": "x"}], scorers=[Safety()])
    assert otelfeedback.evaluation.list_runs() == []


def test_the_fake_judge_hook_sees_the_sections(fake: FakeOpenAIServer) -> None:
    seen: list[JudgeRequest] = []

    def hook(request: JudgeRequest) -> Verdict | None:
        seen.append(request)
        return None  # the default rule

    fake.judge = hook
    assert Correctness()(
        inputs=QUESTION, outputs=ANSWER, expectations={"expected_response": EXPECTED}
    ).value in ("yes", "no")
    (request,) = seen
    assert request.sections["expected_response"] == EXPECTED
    assert request.model == "gpt-4o-mini" and "rationale" in request.schema["properties"]
