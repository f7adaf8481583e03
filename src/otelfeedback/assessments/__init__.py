"""Assessments: feedback (judgements) and expectations (ground truth) on traces and spans.

>>> from otelfeedback.assessments import AssessmentSource, AssessmentSourceType
>>> AssessmentSource(AssessmentSourceType.HUMAN, "enduser_123").source_id
'enduser_123'

The entities, validation, the wire format and the log resolution live here, below ``setup``
in the layering. The functions users call (``log_feedback``, ``override_feedback``, ...)
also need the store: they live in ``otelfeedback.api.assessments`` and ``otelfeedback``
re-exports them.
"""

from __future__ import annotations

from otelfeedback.assessments.entities import (
    Assessment,
    AssessmentError,
    AssessmentSource,
    Expectation,
    Feedback,
)
from otelfeedback.semconv import AssessmentSourceType

__all__ = [
    "Assessment",
    "AssessmentError",
    "AssessmentSource",
    "AssessmentSourceType",
    "Expectation",
    "Feedback",
]
