"""Evaluation runs in the records store: what a run records, listing and reading runs,
comparing two runs, an interrupted run, and remote mode (runs go through the server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback import InvalidArgumentError, NotFoundError
from otelfeedback.evaluation import compare_runs, get_run, get_run_rows, list_runs
from otelfeedback.scorers import Safety, scorer
from otelfeedback.testing import FakeOpenAIServer, JudgeRequest, Verdict
from tests.server.live import LiveServer


@scorer
def length(outputs: Any) -> int:
    return len(outputs)


def judge_saying(verdicts: dict[str, str]) -> Any:
    """A judge hook: the verdict for each response text."""

    def hook(request: JudgeRequest) -> Verdict:
        response = request.sections["response"]
        return Verdict(verdicts[response], f"{response} is {verdicts[response]}")

    return hook


def rows(*answers: str) -> list[dict[str, Any]]:
    return [{"inputs": {"q": a[0]}, "outputs": a} for a in answers]


def test_a_run_records_what_it_used_and_its_rows(store: Path, fake: FakeOpenAIServer) -> None:
    fake.judge = judge_saying({"apple": "yes", "bomb": "no"})
    result = otelfeedback.evaluate(
        data=rows("apple", "bomb"), scorers=[Safety(), length], name="nightly"
    )
    run = get_run(result.run_id)
    assert (run.name, run.status, run.row_count, run.passed_count) == ("nightly", "finished", 2, 1)
    assert run.finished_time_ms is not None and run.finished_time_ms >= run.created_time_ms
    assert run.data_source == {"type": "rows", "rows": 2, "dataset": None}
    assert run.predict_fn is None
    assert [(s["name"], s["type"], s["judge_model"]) for s in run.scorers] == [
        ("safety", "llm_judge", "openai:/gpt-4o-mini"),
        ("length", "code", None),
    ]
    assert run.scorers[0]["prompt_hash"] == Safety().prompt_hash
    assert run.metrics == {"length/mean": 4.5, "safety/mean": 0.5}
    assert run.errors == {}
    stored = get_run_rows(result.run_id)
    assert [(r.index, r.inputs, r.outputs, r.passed) for r in stored] == [
        (0, {"q": "a"}, "apple", True),
        (1, {"q": "b"}, "bomb", False),
    ]
    assert [r.trace_id for r in stored] == [r.trace_id for r in result.rows]
    safety = next(x for x in stored[1].results if x["name"] == "safety")
    assert safety["value"] == "no" and safety["rationale"] == "bomb is no"
    assert safety["source"] == {"source_type": "LLM_JUDGE", "source_id": "openai:/gpt-4o-mini"}
    assert safety["assessment_id"].startswith("a-")
    assert [r.run_id for r in list_runs()] == [result.run_id]


def test_unknown_and_malformed_run_ids(store: Path) -> None:
    with pytest.raises(NotFoundError, match="evaluation run 'nope' not found"):
        get_run("nope")
    with pytest.raises(InvalidArgumentError, match="run_id"):
        get_run("../etc")
    with pytest.raises(InvalidArgumentError, match="run_id"):
        get_run(None)  # type: ignore[arg-type]


def test_compare_runs_pairs_rows_by_inputs_and_finds_regressions_and_improvements(
    store: Path, fake: FakeOpenAIServer
) -> None:
    fake.judge = judge_saying({"apple": "yes", "bomb": "no", "cherry": "yes"})
    base = otelfeedback.evaluate(data=rows("apple", "bomb", "cherry"), scorers=[Safety(), length])
    fake.judge = judge_saying({"apple!": "no", "bomb": "yes", "cherry": "yes", "date": "yes"})
    candidate = otelfeedback.evaluate(
        data=[
            {"inputs": {"q": "a"}, "outputs": "apple!"},
            {"inputs": {"q": "b"}, "outputs": "bomb"},
            {"inputs": {"q": "c"}, "outputs": "cherry"},
            {"inputs": {"q": "d"}, "outputs": "date"},
        ],
        scorers=[Safety(), length],
    )
    result = compare_runs(base.run_id, candidate.run_id)
    assert (result.paired, result.only_in_base, result.only_in_candidate) == (3, 0, 1)
    deltas = {m.name: (m.base, m.candidate, m.delta) for m in result.metrics}
    assert deltas["safety/mean"] == pytest.approx((2 / 3, 0.75, 0.75 - 2 / 3))
    assert deltas["length/mean"] == pytest.approx((5.0, 5.0, 0.0))
    (regressed,) = result.regressed["safety"]
    assert regressed.inputs == {"q": "a"}
    assert (regressed.base["value"], regressed.candidate["value"]) == ("yes", "no")
    assert regressed.candidate["rationale"] == "apple! is no"
    assert regressed.candidate["trace_id"] == candidate.rows[0].trace_id
    (improved,) = result.improved["safety"]
    assert improved.inputs == {"q": "b"}
    assert [c.inputs for c in result.improved["length"]] == [{"q": "a"}]  # 5 -> 6 characters
    as_json = result.to_dict()
    assert as_json["regressed"]["safety"][0]["direction"] == "regressed"
    assert as_json["paired_rows"] == 3


def test_a_judge_that_starts_failing_is_a_regression(store: Path, fake: FakeOpenAIServer) -> None:
    base = otelfeedback.evaluate(data=rows("apple"), scorers=[Safety()])
    fake.judge = lambda request: Verdict("unreadable", "?")
    candidate = otelfeedback.evaluate(data=rows("apple"), scorers=[Safety()])
    (change,) = compare_runs(base.run_id, candidate.run_id).regressed["safety"]
    assert change.candidate["error"]["error_code"] == "JUDGE_MALFORMED_ANSWER"
    (change,) = compare_runs(candidate.run_id, base.run_id).improved["safety"]


class Stop(BaseException):
    pass


def test_an_interrupted_run_is_recorded_as_failed(store: Path) -> None:
    def app(q: str) -> str:
        raise Stop()

    with pytest.raises(Stop):
        otelfeedback.evaluate(data=[{"inputs": {"q": "a"}}], predict_fn=app, scorers=[length])
    (run,) = list_runs()
    assert run.status == "failed" and run.metrics == {}


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[LiveServer]:
    from otelfeedback.server import create_app

    live = LiveServer(create_app(tmp_path / "server-store"))
    otelfeedback.configure(store=live.url)
    yield live
    otelfeedback.reset()
    live.close()


def test_in_remote_mode_results_and_runs_go_to_the_server(
    remote: LiveServer, fake: FakeOpenAIServer
) -> None:
    result = otelfeedback.evaluate(data=rows("apple", "bomb"), scorers=[Safety(), length])
    assert result.errors == {}
    assert [r.run_id for r in list_runs()] == [result.run_id]
    traces = otelfeedback.search_traces(run_id=result.run_id)
    assert len(traces) == 2
    assert {a.name for t in traces for a in t.assessments} == {"safety", "length"}
    from tests.server.live import get

    reply = get(remote.url + f"/api/evaluations/runs/{result.run_id}")
    assert reply.status == 200 and reply.json()["metrics"] == result.metrics


def test_for_a_lower_is_better_scorer_a_rise_is_a_regression(store: Path) -> None:
    @scorer(greater_is_better=False)
    def words(outputs: Any) -> int:
        return len(outputs.split())

    base = otelfeedback.evaluate(data=rows("a b", "c d e"), scorers=[words])
    candidate = otelfeedback.evaluate(
        data=[{"inputs": {"q": "a"}, "outputs": "a b c"}, {"inputs": {"q": "c"}, "outputs": "c"}],
        scorers=[words],
    )
    assert get_run(base.run_id).scorers[0]["greater_is_better"] is False
    result = compare_runs(base.run_id, candidate.run_id)
    assert [c.inputs for c in result.regressed["words"]] == [{"q": "a"}]
    assert [c.inputs for c in result.improved["words"]] == [{"q": "c"}]
    (metric,) = result.metrics
    assert (metric.delta, metric.better) == (-0.5, True)
    assert result.to_dict()["metrics"][0]["better"] is True
