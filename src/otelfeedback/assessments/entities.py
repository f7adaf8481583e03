"""Assessment entities: ``Feedback``, ``Expectation``, their source and error.

An assessment is a judgement (feedback) or a piece of ground truth (expectation) about a
trace or one of its spans. Entities are plain dataclasses; ``to_dict()`` gives their JSON form
and ``assessment_from_dict()`` reads it back.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Literal

from otelfeedback.semconv import AssessmentSourceType

AssessmentKind = Literal["feedback", "expectation"]

#: Longest stack trace kept on an ``AssessmentError`` (the tail is kept).
MAX_STACK_TRACE_CHARS = 10_000
_TRUNCATED_PREFIX = "[stack trace truncated]\n"


@dataclass(frozen=True)
class AssessmentSource:
    """Who produced an assessment: a human, an LLM judge or code, and their id.

    >>> AssessmentSource(AssessmentSourceType.HUMAN, "enduser_123").source_type
    <AssessmentSourceType.HUMAN: 'HUMAN'>
    """

    source_type: AssessmentSourceType | str = AssessmentSourceType.HUMAN
    source_id: str = "default"

    def to_dict(self) -> dict[str, str]:
        return {"source_type": str(self.source_type), "source_id": self.source_id}


@dataclass(frozen=True)
class AssessmentError:
    """Why a feedback has no value: the evaluator failed.

    Build one from an exception with ``AssessmentError.from_exception(exc)``.
    """

    error_code: str
    error_message: str | None = None
    stack_trace: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> AssessmentError:
        """The error code is the exception's class name; the stack trace keeps its tail."""
        stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if len(stack) > MAX_STACK_TRACE_CHARS:
            stack = _TRUNCATED_PREFIX + stack[-MAX_STACK_TRACE_CHARS:]
        return cls(type(exc).__name__, str(exc) or None, stack)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "error_code": self.error_code,
            "error_message": self.error_message,
            "stack_trace": self.stack_trace,
        }


@dataclass
class Assessment:
    """Fields shared by ``Feedback`` and ``Expectation`` (see DESIGN.md section 4)."""

    name: str
    value: Any = None
    source: AssessmentSource = field(default_factory=AssessmentSource)
    trace_id: str | None = None
    span_id: str | None = None
    metadata: dict[str, Any] | None = None
    assessment_id: str | None = None
    create_time_ms: int | None = None
    last_update_time_ms: int | None = None
    rationale: str | None = None
    error: AssessmentError | None = None
    overrides: str | None = None
    valid: bool = True

    kind: AssessmentKind = field(default="feedback", init=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the same shape the REST API and ``Trace.to_dict()`` use)."""
        return {
            "assessment_id": self.assessment_id,
            "kind": self.kind,
            "name": self.name,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "value": self.value,
            "rationale": self.rationale,
            "source": self.source.to_dict(),
            "metadata": dict(self.metadata) if self.metadata else {},
            "error": self.error.to_dict() if self.error else None,
            "create_time_ms": self.create_time_ms,
            "last_update_time_ms": self.last_update_time_ms,
            "overrides": self.overrides,
            "valid": self.valid,
        }


@dataclass
class Feedback(Assessment):
    """A judgement of what the app did: a value (bool, number, string, list, object) or an
    error, with an optional rationale.

    >>> Feedback(name="user_feedback", value=False, rationale="too short").kind
    'feedback'
    """

    name: str = "feedback"

    def __post_init__(self) -> None:
        self.kind = "feedback"


@dataclass
class Expectation(Assessment):
    """Ground truth: what the app should have done (the value is never None)."""

    def __post_init__(self) -> None:
        self.kind = "expectation"


def assessment_from_dict(data: dict[str, Any]) -> Feedback | Expectation:
    """Rebuild an assessment from its ``to_dict()`` form."""
    source = data.get("source") or {}
    error = data.get("error")
    cls: type[Feedback] | type[Expectation] = (
        Expectation if data.get("kind") == "expectation" else Feedback
    )
    return cls(
        name=data["name"],
        value=data.get("value"),
        source=AssessmentSource(
            _source_type(source.get("source_type", "HUMAN")), source.get("source_id", "default")
        ),
        trace_id=data.get("trace_id"),
        span_id=data.get("span_id"),
        metadata=dict(data.get("metadata") or {}),
        assessment_id=data.get("assessment_id"),
        create_time_ms=data.get("create_time_ms"),
        last_update_time_ms=data.get("last_update_time_ms"),
        rationale=data.get("rationale"),
        error=AssessmentError(**error) if isinstance(error, dict) else None,
        overrides=data.get("overrides"),
        valid=bool(data.get("valid", True)),
    )


def _source_type(raw: str) -> AssessmentSourceType | str:
    try:
        return AssessmentSourceType(str(raw).upper())
    except ValueError:
        return str(raw)
