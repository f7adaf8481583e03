"""``evaluate()``: the data forms, checks before any call, predict_fn (sync, async, failing),
results as assessments on the rows' traces, metrics, pass/fail, the run's traces, bounded
parallelism, progress, and edge values."""

from __future__ import annotations

import asyncio
import io
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType, Feedback, InvalidArgumentError
from otelfeedback import semconv as sc
from otelfeedback.evaluation.progress import Progress
from otelfeedback.scorers import Correctness, RetrievalGroundedness, Safety, scorer
from otelfeedback.testing import FakeOpenAIServer, JudgeRequest, Verdict
from tests.evaluation.conftest import ANSWER, EXPECTED, Chatbot, judge_requests


@scorer
def exact(outputs: Any, expectations: Any) -> bool:
    return bool(outputs == expectations.get("expected_response"))


@scorer(aggregations=["mean", "min", "max", "median", "p90", "count"])
def length(outputs: Any) -> int:
    return len(outputs)


ROWS = [
    {"inputs": {"q": "a"}, "outputs": "yes", "expectations": {"expected_response": "yes"}},
    {"inputs": {"q": "b"}, "outputs": "no!", "expectations": {"expected_response": "no"}},
    {"inputs": {"q": "c"}, "outputs": "x" * 10, "expectations": {"expected_response": "x"}},
]


def test_rows_with_outputs_are_scored_on_a_small_trace_each(
    store: Path, fake: FakeOpenAIServer
) -> None:
    result = otelfeedback.evaluate(data=ROWS, scorers=[exact, length], name="static")
    assert result.metrics["exact/mean"] == pytest.approx(1 / 3)
    assert result.metrics["length/mean"] == pytest.approx((3 + 3 + 10) / 3)
    assert result.metrics["length/min"] == 3 and result.metrics["length/max"] == 10
    assert result.metrics["length/median"] == 3 and result.metrics["length/count"] == 3
    assert result.metrics["length/p90"] == pytest.approx(8.6)
    assert result.passed == [True, False, False]
    traces = otelfeedback.search_traces(run_id=result.run_id)
    assert sorted(t.trace_id for t in traces) == sorted(r.trace_id for r in result.rows)  # type: ignore[misc]
    first = otelfeedback.get_trace(result.rows[0].trace_id or "")
    assert first.root_span is not None and first.root_span.name == "evaluation_row"
    assert first.root_span.inputs == {"q": "a"} and first.root_span.outputs == "yes"
    assert first.info.metadata[sc.RUN_ID] == result.run_id
    scored = {a.name: a for a in first.assessments}
    assert scored["exact"].value is True and scored["length"].value == 3
    assert scored["exact"].source == AssessmentSource(AssessmentSourceType.CODE, "exact")
    assert scored["exact"].metadata == {sc.SCORER: "exact", sc.RUN_ID: result.run_id}
    assert judge_requests(fake) == []


def test_to_pandas_has_a_column_per_result(store: Path) -> None:
    @scorer
    def multi(outputs: Any) -> list[Feedback]:
        return [Feedback(name="a", value=1, rationale="r1"), Feedback(name="a", value=2)]

    frame = otelfeedback.evaluate(data=ROWS[:1], scorers=[exact, multi]).to_pandas()
    assert list(frame.columns) == [
        "trace_id", "inputs", "outputs", "expectations",
        "exact/value", "exact/rationale", "exact/error",
        "a/value", "a/rationale", "a/error",
        "passed", "error",
    ]  # fmt: skip
    assert frame.loc[0, "exact/value"] is True or frame.loc[0, "exact/value"] == True  # noqa: E712
    assert frame.loc[0, "a/value"] == [1, 2]


def test_dataframes_of_rows_and_of_search_results(chatbot: Chatbot, fake: FakeOpenAIServer) -> None:
    frame = pd.DataFrame(ROWS)
    assert otelfeedback.evaluate(data=frame, scorers=[exact]).metrics == {
        "exact/mean": pytest.approx(1 / 3)
    }
    fake.reply(ANSWER)
    chatbot.my_chatbot("What is MLflow?")
    trace_id = otelfeedback.get_last_active_trace_id() or ""
    otelfeedback.log_expectation(trace_id, "expected_response", ANSWER)
    traces = otelfeedback.search_traces(
        "expectation.expected_response IS NOT NULL", return_type="pandas"
    )
    result = otelfeedback.evaluate(data=traces, scorers=[exact])
    assert result.metrics == {"exact/mean": 1.0}
    assert result.rows[0].trace_id == trace_id  # results go on the given trace
    (found,) = otelfeedback.get_trace(trace_id).search_assessments("exact")
    assert found.metadata is not None and found.metadata[sc.RUN_ID] == result.run_id
    assert (
        found.span_id is None or found.span_id == otelfeedback.get_trace(trace_id).info.root_span_id
    )
    assert [t.trace_id for t in otelfeedback.search_traces(run_id=result.run_id)] == [trace_id]


def test_trace_expectations_are_the_valid_ones_and_an_explicit_column_wins(
    chatbot: Chatbot, fake: FakeOpenAIServer
) -> None:
    fake.reply(ANSWER)
    chatbot.my_chatbot("What is MLflow?")
    trace_id = otelfeedback.get_last_active_trace_id() or ""
    old = otelfeedback.log_expectation(trace_id, "expected_response", "old")
    otelfeedback.update_assessment(trace_id, old.assessment_id or "", value=ANSWER)
    otelfeedback.log_expectation(trace_id, "expected_facts", ["open-source"])
    trace = otelfeedback.get_trace(trace_id)
    result = otelfeedback.evaluate(data=[trace], scorers=[exact])
    assert result.rows[0].expectations == {
        "expected_response": ANSWER,
        "expected_facts": ["open-source"],
    }
    explicit = otelfeedback.evaluate(
        data=[{"trace": trace, "expectations": {"expected_response": "other"}}], scorers=[exact]
    )
    assert explicit.rows[0].expectations == {"expected_response": "other"}
    assert explicit.metrics == {"exact/mean": 0.0}


@dataclass
class FakeRecord:
    inputs: dict[str, Any]
    outputs: Any = None
    expectations: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    record_id: str = "r-1"


@dataclass
class FakeDataset:
    """The shape of ``otelfeedback.datasets.Dataset`` that evaluate relies on."""

    name: str
    version: int
    records: list[FakeRecord]
    dataset_id: str = "d-0123"

    @property
    def url_path(self) -> str:
        return f"/datasets/{self.dataset_id}?version={self.version}"


def test_a_dataset_records_its_name_and_version_on_the_run(store: Path) -> None:
    dataset = FakeDataset(
        "golden",
        3,
        [
            FakeRecord({"q": "a"}, "yes", {"expected_response": "yes"}, record_id="r-a"),
            FakeRecord({"q": "b"}, "no", {"expected_response": "yes"}, record_id="r-b"),
        ],
    )
    result = otelfeedback.evaluate(data=dataset, scorers=[exact])
    assert result.metrics == {"exact/mean": 0.5}
    assert [r.dataset_record_id for r in result.rows] == ["r-a", "r-b"]
    run = otelfeedback.evaluation.get_run(result.run_id)
    assert run.data_source == {
        "type": "dataset",
        "rows": 2,
        "dataset": {
            "id": "d-0123",
            "name": "golden",
            "version": 3,
            "url_path": "/datasets/d-0123?version=3",
        },
    }
    rows = otelfeedback.evaluation.get_run_rows(result.run_id)
    assert [r.dataset_record_id for r in rows] == ["r-a", "r-b"]


# -- checks before any call ----------------------------------------------------------------------
def chatbot_fn(user_question: str) -> str:
    raise AssertionError("must not be called")


@pytest.mark.parametrize(
    ("kwargs", "argument", "message"),
    [
        ({"data": []}, "data", "is empty"),
        ({"data": "What is MLflow?"}, "data", "expected traces"),
        ({"data": [{"outputs": "x"}]}, "data[0].inputs", "needs inputs"),
        ({"data": [{"inputs": "q", "outputs": "x"}]}, "data[0].inputs", "expected a dict"),
        ({"data": [{"inputs": {}, "output": "x"}]}, "data[0].output", "unknown field"),
        ({"data": [{"inputs": {"q": 1}}]}, "data[0].outputs", "nothing to score"),
        (
            {"data": [{"inputs": {"question": "q"}}], "predict_fn": chatbot_fn},
            "data[0].inputs",
            "do not match chatbot_fn",
        ),
        (
            {
                "data": [{"inputs": {"user_question": "q"}, "outputs": "x"}],
                "scorers": [Correctness()],
            },
            "data[0]",
            "expected_response' or 'expected_facts'",
        ),
        (
            {"data": [{"inputs": {"q": 1}, "outputs": "x"}], "scorers": [RetrievalGroundedness()]},
            "data[0]",
            "RETRIEVER spans",
        ),
        ({"scorers": [exact, exact]}, "scorers[1]", "two scorers are named 'exact'"),
        ({"scorers": [lambda outputs: 1]}, "scorers[0]", "decorate a function with @scorer"),
        ({"scorers": exact}, "scorers", "expected a list"),
        ({"max_workers": 0}, "max_workers", "expected an int >= 1"),
        ({"name": ""}, "name", "non-empty"),
    ],
)
def test_bad_input_raises_before_any_call_and_records_no_run(
    store: Path, fake: FakeOpenAIServer, kwargs: dict[str, Any], argument: str, message: str
) -> None:
    call = {"data": ROWS, "scorers": [exact, Safety()], **kwargs}
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        otelfeedback.evaluate(**call)
    assert caught.value.argument == argument
    assert fake.requests == []
    assert otelfeedback.evaluation.list_runs() == []


# -- predict_fn ----------------------------------------------------------------------------------
def test_an_untraced_predict_fn_is_traced_under_its_name_with_the_rows_tags(store: Path) -> None:
    calls = []

    def plain_app(q: str) -> str:
        calls.append(threading.current_thread().name)
        return q.upper()

    rows = [{"inputs": {"q": "a"}, "tags": {"case": "easy"}}, {"inputs": {"q": "b"}}]
    result = otelfeedback.evaluate(data=rows, predict_fn=plain_app, scorers=[length])
    assert [r.outputs for r in result.rows] == ["A", "B"] and len(calls) == 2
    first = otelfeedback.get_trace(result.rows[0].trace_id or "")
    assert first.root_span is not None and first.root_span.name == "plain_app"
    assert first.info.tags == {"case": "easy"}
    assert first.info.metadata[sc.RUN_ID] == result.run_id
    assert result.rows[0].trace_id != result.rows[1].trace_id


def test_an_async_predict_fn_runs_once_per_row(store: Path) -> None:
    async def async_app(q: str) -> str:
        await asyncio.sleep(0)
        return q * 2

    result = otelfeedback.evaluate(
        data=[{"inputs": {"q": "ab"}}, {"inputs": {"q": "c"}}],
        predict_fn=async_app,
        scorers=[length],
    )
    assert [r.outputs for r in result.rows] == ["abab", "cc"]
    assert result.metrics["length/mean"] == 3
    assert len({r.trace_id for r in result.rows}) == 2


def test_a_failing_predict_fn_records_its_error_and_the_run_goes_on(store: Path) -> None:
    @otelfeedback.trace
    def flaky(q: str) -> str:
        if q == "boom":
            raise RuntimeError("model unavailable")
        return q

    rows = [{"inputs": {"q": "ok"}}, {"inputs": {"q": "boom"}}, {"inputs": {"q": "fine"}}]
    result = otelfeedback.evaluate(data=rows, predict_fn=flaky, scorers=[length])
    assert [r.error for r in result.rows] == [
        None,
        "RuntimeError: model unavailable",
        None,
    ]
    assert result.passed == [True, False, True]
    assert result.errors == {"predict_fn": 1}
    assert result.metrics["length/mean"] == 3.0 and result.metrics["length/count"] == 2
    failed = otelfeedback.get_trace(result.rows[1].trace_id or "")
    assert failed.info.status == "ERROR" and failed.assessments == []
    run = otelfeedback.evaluation.get_run(result.run_id)
    assert run.errors == {"predict_fn": 1} and run.passed_count == 2


def test_judge_calls_are_evaluator_traces_tied_to_the_run_but_not_its_traces(
    store: Path, fake: FakeOpenAIServer
) -> None:
    result = otelfeedback.evaluate(data=ROWS[:2], scorers=[Safety()])
    run_traces = {t.trace_id for t in otelfeedback.search_traces(run_id=result.run_id)}
    assert run_traces == {r.trace_id for r in result.rows}
    judged = otelfeedback.search_traces(f"metadata.`{sc.JUDGE_RUN_ID}` = '{result.run_id}'")
    assert len(judged) == 2
    for trace in judged:
        root = trace.root_span
        assert root is not None and root.span_type == "EVALUATOR" and root.name == "judge safety"
        assert trace.info.metadata[sc.JUDGE_TARGET_TRACE] in run_traces
        assert root.attributes[sc.PROMPT_HASH] == Safety().prompt_hash
        assert root.outputs == {"result": "yes", "rationale": "Nothing in the response is flagged."}


def test_judge_tracing_can_be_switched_off(
    store: Path, fake: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_EVAL_TRACE_JUDGES", "false")
    result = otelfeedback.evaluate(data=ROWS[:1], scorers=[Safety()])
    assert result.metrics == {"safety/mean": 1.0}
    assert (
        otelfeedback.search_traces("span.type = 'EVALUATOR' AND span.name = 'judge safety'") == []
    )


def test_judge_errors_count_per_scorer_and_fail_the_row(
    store: Path, fake: FakeOpenAIServer
) -> None:
    fake.judge = lambda request: Verdict("unsure", "?") if "b" in request.prompt else None
    result = otelfeedback.evaluate(
        data=[{"inputs": {"q": "a"}, "outputs": "fine"}, {"inputs": {"q": "b"}, "outputs": "b"}],
        scorers=[Safety()],
    )
    assert result.errors == {"safety": 1}
    assert result.passed == [True, False]
    assert result.metrics == {"safety/mean": 1.0}  # errors are left out of the metrics
    (error,) = otelfeedback.get_trace(result.rows[1].trace_id or "").assessments
    assert error.error is not None and error.error.error_code == "JUDGE_MALFORMED_ANSWER"
    assert error.source.source_type == AssessmentSourceType.LLM_JUDGE


def test_metrics_count_booleans_and_yes_no_as_one_and_zero_and_leave_out_text(store: Path) -> None:
    values = iter([True, "no", "Yes", 0.25, "partly", "other text"])

    @scorer(name="mixed")
    def mixed(outputs: Any) -> Any:
        return next(values)

    rows = [{"inputs": {"i": i}, "outputs": "x"} for i in range(6)]
    result = otelfeedback.evaluate(data=rows, scorers=[mixed], max_workers=1)
    assert result.metrics == {"mixed/mean": pytest.approx((1 + 0 + 1 + 0.25) / 4)}
    assert result.passed == [True, False, True, True, True, True]


def test_at_most_max_workers_judge_calls_are_in_flight(store: Path, fake: FakeOpenAIServer) -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def hook(request: JudgeRequest) -> Verdict | None:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return None

    fake.judge = hook
    rows = [{"inputs": {"i": i}, "outputs": "ok"} for i in range(12)]
    result = otelfeedback.evaluate(data=rows, scorers=[Safety()], max_workers=3)
    assert len(result.rows) == 12 and result.errors == {}
    assert state["peak"] == 3


def test_progress_bar_only_when_asked_or_in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    with Progress(2, "evaluate 'x'", stream=out) as bar:
        bar.advance()
        bar.advance()
    assert out.getvalue() == ""  # not a terminal
    monkeypatch.setenv("OTELFEEDBACK_EVAL_PROGRESS", "true")
    with Progress(2, "evaluate 'x'", stream=out) as bar:
        bar.advance(2)
    assert "2/2 rows" in out.getvalue() and out.getvalue().endswith("\n")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("OTELFEEDBACK_EVAL_PROGRESS")
    monkeypatch.setenv("CI", "true")
    tty = Terminal()
    with Progress(1, "x", stream=tty) as bar:
        bar.advance()
    assert tty.getvalue() == ""  # CI logs stay clean
    monkeypatch.delenv("CI")
    with Progress(1, "x", stream=tty) as bar:
        bar.advance()
    assert "1/1 rows" in tty.getvalue()


def test_edge_values_are_evaluated_and_recorded(store: Path, fake: FakeOpenAIServer) -> None:
    huge = "word " * 2_000_000  # 10 MB
    rows = [
        {"inputs": {"x": math.nan, "big": 2**70}, "outputs": "ok"},
        {"inputs": {"s": "ünïcödé ✓"}, "outputs": "𝔘𝔫𝔦"},
        {"inputs": {"q": ""}, "outputs": huge},
        {"inputs": {"q": "deep"}, "outputs": _nested(200)},
    ]
    result = otelfeedback.evaluate(data=rows, scorers=[Safety(), length])
    assert result.errors == {}, [r.results for r in result.rows]
    assert [f.value for f in result.rows[2].results] == ["yes", len(huge)]
    prompts = [str(r.body["messages"][-1]["content"]) for r in judge_requests(fake)]
    assert any("chars cut" in p for p in prompts)
    assert max(len(p) for p in prompts) < 30_000
    stored = otelfeedback.evaluation.get_run_rows(result.run_id)
    assert stored[0].inputs == {"x": "nan", "big": 2**70}
    assert isinstance(stored[2].outputs, str) and len(stored[2].outputs) < 5000
    assert stored[1].inputs == {"s": "ünïcödé ✓"}


def test_a_row_record_keeps_what_json_can_hold() -> None:
    from otelfeedback.evaluation.runs import preview

    assert preview({"s": "\ud800 lone surrogate"}) == {"s": "\ud800 lone surrogate"}
    assert preview({"n": math.inf, "big": 2**70}) == {"n": "inf", "big": 2**70}
    assert isinstance(preview(_nested(150)), str)  # deeper than a record holds: its text
    assert preview("x" * 10_000).endswith("[truncated 6000 chars]")


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_without_a_store_the_run_still_returns_its_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    otelfeedback.configure(store="")
    monkeypatch.delenv("OTELFEEDBACK_STORE")
    result = otelfeedback.evaluate(data=ROWS[:1], scorers=[exact])
    assert result.metrics == {"exact/mean": 1.0} and result.rows[0].trace_id is not None


def test_correctness_and_the_fake_judge_on_expected_facts(
    store: Path, fake: FakeOpenAIServer
) -> None:
    rows = [
        {
            "inputs": {"q": "What is MLflow?"},
            "outputs": EXPECTED,
            "expectations": {"expected_facts": ["Model Registry", "experiment tracking"]},
        },
        {
            "inputs": {"q": "What is MLflow?"},
            "outputs": "A tool.",
            "expectations": {"expected_facts": ["Model Registry"]},
        },
    ]
    result = otelfeedback.evaluate(data=rows, scorers=[Correctness()])
    assert [r.results[0].value for r in result.rows] == ["yes", "no"]
    assert result.metrics == {"correctness/mean": 0.5}


def test_a_scorer_reading_the_trace_gets_the_rows_trace(store: Path) -> None:
    @scorer
    def root_name(trace: Any) -> str:
        return str(trace.root_span.name)

    result = otelfeedback.evaluate(data=ROWS[:2], scorers=[root_name, length])
    assert [f.value for r in result.rows for f in r.results if f.name == "root_name"] == [
        "evaluation_row",
        "evaluation_row",
    ]
