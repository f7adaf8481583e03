"""Assessment entities: ``Feedback``, ``Expectation``, their source and error.

An assessment is a judgement (feedback) or a piece of ground truth (expectation) about a
trace or one of its spans. Entities are plain dataclasses; ``to_dict()`` gives their JSON form
and ``assessment_from_dict()`` reads it back.
"""

from __future__ import annotations

import enum
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from otelfeedback.assessments.schema import FIELDS, to_dict_form, to_record_fields
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.semconv import AssessmentSourceType

AssessmentKind = Literal["feedback", "expectation"]

#: Longest ``source_id`` accepted.
MAX_SOURCE_ID_LENGTH = 250
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

    @classmethod
    def parse(
        cls,
        value: Any,
        default_type: AssessmentSourceType = AssessmentSourceType.HUMAN,
        *,
        strict: bool = True,
    ) -> AssessmentSource:
        """A normalized source from an ``AssessmentSource``, its dict form
        (``{"source_type", "source_id"}``) or None (``default_type`` / ``"default"``).
        Source types are case-insensitive. ``strict=False`` (reading stored data) keeps an
        unknown type as text instead of raising.

        Raises:
            InvalidArgumentError: (strict) not a source, an unknown type, or an empty or
                over-long ``source_id``.
        """
        if value is None:
            return cls(default_type, "default")
        if isinstance(value, AssessmentSource):
            raw_type, source_id = value.source_type, value.source_id
        elif isinstance(value, Mapping):
            raw_type = value.get("source_type") or default_type
            source_id = value.get("source_id", "default")
        else:
            raise InvalidArgumentError(
                "source", f"expected an AssessmentSource, got {type(value).__name__}"
            )
        text = str(raw_type.value if isinstance(raw_type, enum.Enum) else raw_type).upper()
        source_type: AssessmentSourceType | str
        try:
            source_type = AssessmentSourceType(text)
        except ValueError:
            if strict:
                valid = ", ".join(t.value for t in AssessmentSourceType)
                raise InvalidArgumentError(
                    "source", f"unknown source_type {raw_type!r}; expected one of: {valid}"
                ) from None
            source_type = str(raw_type)
        if strict:
            if not isinstance(source_id, str) or not source_id.strip():
                raise InvalidArgumentError("source", "source_id must be a non-empty string")
            source_id = source_id.strip()
            if len(source_id) > MAX_SOURCE_ID_LENGTH:
                raise InvalidArgumentError(
                    "source", f"source_id must be at most {MAX_SOURCE_ID_LENGTH} characters"
                )
        return cls(source_type, str(source_id))


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
    """Fields shared by ``Feedback`` and ``Expectation`` (see docs/assessments.md)."""

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

    def to_record_fields(self) -> dict[str, Any]:
        """The flat fields (``assessments.schema.FIELDS``), as a record carries them."""
        fields = {f.name: getattr(self, f.name) for f in FIELDS if f.group is None}
        fields["source_type"] = str(self.source.source_type)
        fields["source_id"] = self.source.source_id
        fields["error"] = self.error.to_dict() if self.error else None
        return fields

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the same shape the REST API and ``Trace.to_dict()`` use)."""
        out = to_dict_form(self.to_record_fields(), valid=self.valid)
        out["last_update_time_ms"] = self.last_update_time_ms
        return out


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
    fields = to_record_fields(data)
    error = fields.pop("error")
    source = AssessmentSource.parse(
        {"source_type": fields.pop("source_type"), "source_id": fields.pop("source_id")},
        strict=False,
    )
    cls: type[Feedback] | type[Expectation] = (
        Expectation if fields.pop("kind") == "expectation" else Feedback
    )
    fields["name"] = data["name"]
    fields["metadata"] = dict(fields["metadata"] or {})
    return cls(
        **fields,
        source=source,
        error=AssessmentError(**error) if isinstance(error, dict) else None,
        valid=bool(data.get("valid", True)),
    )
