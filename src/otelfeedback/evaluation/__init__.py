"""Evaluation: ``evaluate()``, evaluation runs, comparing runs, judge-vs-human alignment.

::

    import otelfeedback
    from otelfeedback.scorers import Correctness

    result = otelfeedback.evaluate(data=traces, predict_fn=my_chatbot, scorers=[Correctness()])
    otelfeedback.evaluation.compare_runs(old_run_id, result.run_id).regressed
    otelfeedback.evaluation.alignment(
        judge="correctness", human="response_accuracy",
        mapping={"Accurate": "yes", "Partially Accurate": "no", "Inaccurate": "no"},
    )

The functions here read the active store (``configure(store=...)``, else the settings').
See ``docs/evaluation.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otelfeedback.api._store import read_store
from otelfeedback.evaluation import runs as _runs
from otelfeedback.evaluation.compare import RunComparison
from otelfeedback.evaluation.compare import compare_runs as _compare
from otelfeedback.evaluation.harness import evaluate
from otelfeedback.evaluation.judge_alignment import AlignmentReport, compute_alignment
from otelfeedback.evaluation.result import EvaluationResult, RowResult
from otelfeedback.evaluation.runs import EvaluationRun, RunRow

__all__ = [
    "AlignmentReport",
    "EvaluationResult",
    "EvaluationRun",
    "RowResult",
    "RunComparison",
    "RunRow",
    "alignment",
    "compare_runs",
    "evaluate",
    "get_run",
    "get_run_rows",
    "list_runs",
]


def get_run(run_id: str) -> EvaluationRun:
    """A run of the active store.

    Raises:
        InvalidArgumentError: a malformed id.
        NotFoundError: no such run.
    """
    return _runs.get_run(read_store(), _runs.check_run_id(run_id))


def get_run_rows(run_id: str) -> list[RunRow]:
    """A run's rows, in the order of its data.

    Raises:
        NotFoundError: no such run.
    """
    store = read_store()
    run = _runs.get_run(store, _runs.check_run_id(run_id))
    return _runs.run_rows(store, run.run_id)


def list_runs() -> list[EvaluationRun]:
    """Every run of the active store, newest first."""
    return _runs.list_runs(read_store())


def compare_runs(base_run_id: str, candidate_run_id: str) -> RunComparison:
    """How ``candidate_run_id`` differs from ``base_run_id``: metric deltas, and per scorer
    the rows (paired by their inputs) that regressed or improved.

    Raises:
        NotFoundError: either run does not exist.
    """
    return _compare(read_store(), base_run_id, candidate_run_id)


def alignment(
    judge: str,
    human: str,
    mapping: Mapping[Any, Any] | None = None,
    *,
    judge_model: str | None = None,
    prompt_hash: str | None = None,
    run_id: str | None = None,
    positive: str = "yes",
) -> AlignmentReport:
    """Agreement between a judge's results and people's labels on the same traces.

    Example::

        report = alignment("correctness", "response_accuracy",
                           mapping={"Accurate": "yes", "Inaccurate": "no"})
        report.n, report.agreement, report.kappa, report.disagreements

    Args:
        judge: the judge's feedback name (results whose source is not HUMAN).
        human: the human label's feedback name (source HUMAN).
        mapping: human values to the judge's values; default: as they are (booleans and
            yes/no as ``"yes"``/``"no"``).
        judge_model, prompt_hash: pin another judge version than the newest.
        run_id: only judge results of this evaluation run.
        positive: the label TPR, precision and recall are about.

    Returns:
        An ``AlignmentReport`` (see ``otelfeedback.evaluation.judge_alignment``).

    Raises:
        InvalidArgumentError: a bad name or mapping.
    """
    return compute_alignment(
        read_store(),
        judge,
        human,
        mapping,
        judge_model=judge_model,
        prompt_hash=prompt_hash,
        run_id=run_id,
        positive=positive,
    )
