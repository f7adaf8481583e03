"""Judge-vs-human alignment: the numbers against a published worked example, label mapping,
majority of reviewers, pinning to one judge version, disagreements with both rationales, and
end to end after an evaluation of human-labeled traces."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType, InvalidArgumentError
from otelfeedback import semconv as sc
from otelfeedback.evaluation import alignment
from otelfeedback.scorers import Correctness
from otelfeedback.testing import FakeOpenAIServer

JUDGE = AssessmentSource(AssessmentSourceType.LLM_JUDGE, "openai:/gpt-4o-mini")
MAPPING = {"Accurate": "yes", "Partially Accurate": "no", "Inaccurate": "no"}


@otelfeedback.trace
def app(question: str) -> str:
    return f"answer to {question}"


def labeled_trace(
    judge: Any, human: Any, *, prompt_hash: str = "p1", reviewers: tuple[str, ...] = ("ann",)
) -> str:
    app(f"q{judge}{human}")
    trace_id = otelfeedback.get_last_active_trace_id() or ""
    otelfeedback.log_feedback(
        trace_id,
        "correctness",
        judge,
        rationale=f"judge says {judge}",
        source=JUDGE,
        metadata={sc.JUDGE_MODEL: "openai:/gpt-4o-mini", sc.PROMPT_HASH: prompt_hash},
    )
    labels = human if isinstance(human, tuple) else (human,) * len(reviewers)
    for reviewer, label in zip(reviewers, labels):
        otelfeedback.log_feedback(
            trace_id,
            "response_accuracy",
            label,
            rationale=f"{reviewer} says {label}",
            source=AssessmentSource(AssessmentSourceType.HUMAN, reviewer),
        )
    return trace_id


def test_cohens_kappa_and_rates_match_a_worked_example(store: Path) -> None:
    # The textbook 2x2 example: 20 both yes, 15 both no, 5 judge-only yes, 10 human-only yes
    # (n=50, agreement 0.7, chance agreement 0.5, kappa 0.4).
    for judge, human, count in (
        ("yes", True, 20),
        ("no", False, 15),
        ("yes", False, 5),
        ("no", True, 10),
    ):
        for _ in range(count):
            labeled_trace(judge, human)
    report = alignment("correctness", "response_accuracy")
    assert report.n == 50
    assert report.agreement == pytest.approx(0.7)
    assert report.kappa == pytest.approx(0.4)
    assert report.tpr == report.recall == pytest.approx(20 / 30)
    assert report.tnr == pytest.approx(15 / 20)
    assert report.precision == pytest.approx(20 / 25)
    assert report.labels == ["yes", "no"]
    assert report.confusion == {"yes": {"yes": 20, "no": 10}, "no": {"yes": 5, "no": 15}}
    assert len(report.disagreements) == 15
    one = report.disagreements[0]
    assert one["judge_rationale"].startswith("judge says")
    assert one["human_rationale"].startswith("ann says")
    assert (report.judge_model, report.prompt_hash) == ("openai:/gpt-4o-mini", "p1")


def test_categorical_labels_are_mapped_and_unmapped_ones_reported(store: Path) -> None:
    labeled_trace("yes", "Accurate")
    labeled_trace("no", "Partially Accurate")
    labeled_trace("yes", "Inaccurate")
    labeled_trace("no", "Not sure")
    report = alignment("correctness", "response_accuracy", mapping=MAPPING)
    assert report.n == 3 and report.agreement == pytest.approx(2 / 3)
    assert report.skipped == {"unmapped_human_value": 1}
    assert report.unmapped_values == {"Not sure": 1}
    (disagreement,) = report.disagreements
    assert disagreement["human_value"] == "Inaccurate" and disagreement["human_label"] == "no"


def test_several_reviewers_count_as_their_majority(store: Path) -> None:
    labeled_trace("yes", (True, True, False), reviewers=("ann", "bob", "cid"))
    labeled_trace("yes", (False, False, True), reviewers=("ann", "bob", "cid"))
    report = alignment("correctness", "response_accuracy")
    assert report.n == 2 and report.agreement == 0.5


def test_results_of_another_judge_version_are_not_mixed_in(store: Path) -> None:
    labeled_trace("no", True, prompt_hash="old")
    labeled_trace("no", True, prompt_hash="old")
    time.sleep(0.005)  # a later run, with an edited prompt
    labeled_trace("yes", True, prompt_hash="new")
    newest = alignment("correctness", "response_accuracy")
    assert (newest.prompt_hash, newest.n, newest.agreement) == ("new", 1, 1.0)
    assert newest.kappa is None  # one label on both sides: chance agreement is 1
    assert newest.skipped == {"other_version": 2}
    assert {(v["prompt_hash"], v["results"]) for v in newest.versions} == {("old", 2), ("new", 1)}
    old = alignment("correctness", "response_accuracy", prompt_hash="old")
    assert (old.n, old.agreement, old.kappa) == (2, 0.0, 0.0)


def test_nothing_to_compare_is_an_empty_report(store: Path) -> None:
    report = alignment("correctness", "response_accuracy")
    assert (report.n, report.agreement, report.kappa, report.tpr) == (0, None, None, None)


def test_bad_arguments(store: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="judge"):
        alignment("", "response_accuracy")
    with pytest.raises(InvalidArgumentError, match="mapping"):
        alignment("correctness", "response_accuracy", mapping=["Accurate"])  # type: ignore[arg-type]


def test_alignment_after_evaluating_human_labeled_traces(
    store: Path, fake: FakeOpenAIServer
) -> None:
    answers = {
        "What is MLflow?": ("MLflow is a platform for the machine learning lifecycle.", "Accurate"),
        "What is OTel?": ("OTel is a kind of cheese.", "Inaccurate"),
        "What is SQL?": ("SQL is a query language for relational databases.", "Accurate"),
    }
    expected = {
        "What is MLflow?": "MLflow is a platform for the machine learning lifecycle.",
        "What is OTel?": "OpenTelemetry is an observability standard.",
        "What is SQL?": "Structured Query Language, standardised by ANSI and ISO.",
    }

    @otelfeedback.trace
    def chatbot(user_question: str) -> str:
        return answers[user_question][0]

    for question, (_, label) in answers.items():
        chatbot(question)
        trace_id = otelfeedback.get_last_active_trace_id() or ""
        otelfeedback.log_expectation(trace_id, "expected_response", expected[question])
        otelfeedback.log_feedback(
            trace_id,
            "response_accuracy",
            label,
            rationale="expert review",
            source=AssessmentSource(AssessmentSourceType.HUMAN, "expert_1"),
        )
    labeled = otelfeedback.search_traces("feedback.response_accuracy IS NOT NULL")
    result = otelfeedback.evaluate(data=labeled, scorers=[Correctness()])
    verdicts = {r.inputs["user_question"]: r.results[0].value for r in result.rows}
    assert verdicts == {"What is MLflow?": "yes", "What is OTel?": "no", "What is SQL?": "no"}

    report = alignment("correctness", "response_accuracy", mapping=MAPPING, run_id=result.run_id)
    assert report.n == 3 and report.agreement == pytest.approx(2 / 3)
    assert report.prompt_hash == Correctness().prompt_hash
    assert report.judge_model == "openai:/gpt-4o-mini"
    (disagreement,) = report.disagreements
    assert disagreement["human_value"] == "Accurate" and disagreement["judge_value"] == "no"
    assert disagreement["judge_rationale"].startswith("The response does not cover")
