"""Scorers for ``otelfeedback.evaluate``: built-in LLM judges, ``make_judge`` for your own,
and ``@scorer`` for code.

::

    from otelfeedback.scorers import Correctness, Guidelines, scorer

    @scorer
    def short(outputs) -> bool:
        return len(outputs) < 500

    otelfeedback.evaluate(data=traces, scorers=[Correctness(), short])

See ``docs/evaluation.md``.
"""

from otelfeedback.evaluation.scorers import (
    Correctness,
    ExpectationsGuidelines,
    Guidelines,
    LLMJudge,
    RelevanceToQuery,
    RetrievalGroundedness,
    RetrievalRelevance,
    RetrievalSufficiency,
    Safety,
    Scorer,
    make_judge,
    scorer,
)

__all__ = [
    "Correctness",
    "ExpectationsGuidelines",
    "Guidelines",
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
