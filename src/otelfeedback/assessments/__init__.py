"""Assessments: feedback (judgements) and expectations (ground truth) on traces and spans.

>>> from otelfeedback.assessments import AssessmentSource, AssessmentSourceType
>>> AssessmentSource(AssessmentSourceType.HUMAN, "enduser_123").source_id
'enduser_123'

The entities and the wire format live here, below ``setup`` in the layering. The functions
that also read the store (``log_feedback``, ``override_feedback``, ...) live in
``otelfeedback.store.assessment_api`` and are re-exported here lazily (on first attribute
access), so importing this package stays free and the layers keep pointing down.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from otelfeedback.assessments.entities import (
    Assessment,
    AssessmentError,
    AssessmentSource,
    Expectation,
    Feedback,
)
from otelfeedback.semconv import AssessmentSourceType

if TYPE_CHECKING:
    from otelfeedback.store.assessment_api import (
        delete_assessment,
        get_assessment,
        log_expectation,
        log_feedback,
        override_feedback,
        update_assessment,
    )

_FLUENT = frozenset(
    {
        "delete_assessment",
        "get_assessment",
        "log_expectation",
        "log_feedback",
        "override_feedback",
        "update_assessment",
    }
)


def __getattr__(name: str) -> Any:
    if name in _FLUENT:
        # A deliberate, documented upward re-export (docs/architecture.md): resolved lazily.
        module = importlib.import_module("otelfeedback.store.assessment_api")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Assessment",
    "AssessmentError",
    "AssessmentSource",
    "AssessmentSourceType",
    "Expectation",
    "Feedback",
    "delete_assessment",
    "get_assessment",
    "log_expectation",
    "log_feedback",
    "override_feedback",
    "update_assessment",
]
