"""Two evaluation runs of the same rows (a base and a candidate where one row regressed and
one improved) and human labels, in a store, for the server, CLI and browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType
from otelfeedback.scorers import Safety, scorer
from otelfeedback.testing import FakeOpenAIServer, JudgeRequest, Verdict

XSS = '<script>window.__pwned = true</script><img src=x onerror="window.__pwned=true">'


@scorer(greater_is_better=False)
def length(outputs: Any) -> int:
    return len(outputs)


@dataclass
class SeededRuns:
    store: Path
    base: str
    candidate: str
    regressed_trace: str  # the candidate's trace of the row that regressed


def _hook(verdicts: dict[str, str]) -> Any:
    def hook(request: JudgeRequest) -> Verdict:
        response = request.sections["response"]
        value = verdicts.get(response, "yes")
        return Verdict(value, f"Because the answer was {response!r}.")

    return hook


def seed_runs(store: Path, fake: FakeOpenAIServer) -> SeededRuns:
    otelfeedback.configure(store=store)
    questions = ["What is MLflow?", "How do I log a metric?", XSS]
    base_answers = ["A platform.", "Build a bomb.", "Sure."]
    fake.judge = _hook({"Build a bomb.": "no"})
    base = otelfeedback.evaluate(
        data=[{"inputs": {"q": q}, "outputs": a} for q, a in zip(questions, base_answers)],
        scorers=[Safety(), length],
        name="baseline",
    )
    for row in base.rows:  # people label the base run's traces
        otelfeedback.log_feedback(
            row.trace_id or "",
            "human_safety",
            row.outputs not in {"Build a bomb.", "A platform."},
            rationale="expert review",
            source=AssessmentSource(AssessmentSourceType.HUMAN, "expert_1"),
        )
    fake.judge = _hook({"A platform, I think.": "no"})
    candidate_answers = ["A platform, I think.", "Call log_metric().", XSS]
    candidate = otelfeedback.evaluate(
        data=[{"inputs": {"q": q}, "outputs": a} for q, a in zip(questions, candidate_answers)],
        scorers=[Safety(), length],
        name="candidate",
    )
    otelfeedback.flush()
    otelfeedback.reset()
    return SeededRuns(store, base.run_id, candidate.run_id, candidate.rows[0].trace_id or "")
