"""Scorers for ``evaluate``: LLM judges and code scorers (users import them from
``otelfeedback.scorers``)."""

from otelfeedback.evaluation.scorers.base import FunctionScorer, Scorer, scorer
from otelfeedback.evaluation.scorers.builtin import (
    Correctness,
    ExpectationsGuidelines,
    Guidelines,
    RelevanceToQuery,
    Safety,
)
from otelfeedback.evaluation.scorers.judge import InstructionsJudge, LLMJudge, make_judge
from otelfeedback.evaluation.scorers.retrieval import (
    RetrievalGroundedness,
    RetrievalRelevance,
    RetrievalSufficiency,
)

__all__ = [
    "Correctness",
    "ExpectationsGuidelines",
    "FunctionScorer",
    "Guidelines",
    "InstructionsJudge",
    "LLMJudge",
    "RelevanceToQuery",
    "RetrievalGroundedness",
    "RetrievalRelevance",
    "RetrievalSufficiency",
    "Safety",
    "Scorer",
    "make_judge",
    "scorer",
]
