"""The assessment forms of the trace page: read, CSRF-check and parse them.

A form gives the value as typed text plus the type the reviewer picked (yes/no, number,
text, JSON); this module turns that into the JSON value the SDK validates. The reviewer's
name comes with every form and is remembered in a cookie, so it is asked once per browser.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from otelfeedback.assessments.entities import AssessmentSource
from otelfeedback.assessments.validation import MAX_NAME_LENGTH, MAX_RATIONALE_LENGTH
from otelfeedback.errors import OtelFeedbackError
from otelfeedback.semconv import AssessmentSourceType
from otelfeedback.server._http import HTTPError, parse_json
from otelfeedback.server.security import CSRF_COOKIE, CSRF_FIELD, csrf_ok

REVIEWER_COOKIE = "otelfeedback_reviewer"
VALUE_TYPES = ("boolean", "number", "text", "json")
MAX_FORM_BYTES = 1024 * 1024


class FormRejected(Exception):
    """A form post failed because of ``cause``; ``pages`` shows the trace page again with
    the message beside the form (a 400), or the error page."""

    def __init__(self, trace_id: str, form: dict[str, str], cause: Exception) -> None:
        super().__init__(str(cause))
        self.trace_id = trace_id
        self.form = form
        self.cause = cause


@contextmanager
def rejected_as(trace_id: str, form: dict[str, str]) -> Iterator[None]:
    """Turn our errors (bad input, CSRF, an unknown assessment) inside the block into a
    ``FormRejected`` carrying the form, so the page can be shown again as it was filled."""
    try:
        yield
    except (OtelFeedbackError, HTTPError) as exc:
        raise FormRejected(trace_id, form, exc) from exc


async def read_form(request: Request) -> dict[str, str]:
    """The posted form's fields (text only; the last value of a repeated field wins)."""
    async with request.form(max_files=0, max_fields=50, max_part_size=MAX_FORM_BYTES) as form:
        return {k: v for k, v in form.items() if isinstance(v, str)}


def check_csrf(request: Request, form: dict[str, str]) -> None:
    if not csrf_ok(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
        raise HTTPError(
            403,
            "CSRF",
            "the form's security token is missing or stale: reload the page and try again",
        )


def reviewer_of(request: Request) -> str:
    return unquote(request.cookies.get(REVIEWER_COOKIE, ""))


def remember_reviewer(response: Response, reviewer: str) -> None:
    response.set_cookie(
        REVIEWER_COOKIE, quote(reviewer), max_age=365 * 24 * 3600, samesite="strict"
    )


def _invalid(argument: str, message: str) -> HTTPError:
    return HTTPError(400, "INVALID_ARGUMENT", message, argument)


def parse_value(form: dict[str, str]) -> Any:
    value_type = form.get("value_type", "boolean")
    if value_type not in VALUE_TYPES:
        raise _invalid("value_type", f"Value type: expected one of {', '.join(VALUE_TYPES)}")
    if value_type == "boolean":
        choice = form.get("value_bool", form.get("value", "")).strip().lower()
        if choice in ("true", "yes", "1"):
            return True
        if choice in ("false", "no", "0"):
            return False
        raise _invalid("value", "Value: choose yes or no")
    text = form.get("value", "")
    if value_type == "number":
        try:
            number = float(text.strip())
        except ValueError:
            raise _invalid("value", f"Value: {text!r} is not a number") from None
        if not math.isfinite(number):
            raise _invalid("value", "Value: enter a finite number")
        is_int = number.is_integer() and not any(c in text for c in ".eE")
        return int(number) if is_int else number
    if value_type == "json":
        try:
            return parse_json(text)
        except ValueError as exc:
            raise _invalid("value", f"Value: not valid JSON ({exc})") from None
    if not text.strip():
        raise _invalid("value", "Value: enter some text")
    return text


def _reviewer(form: dict[str, str]) -> str:
    reviewer = " ".join(form.get("reviewer", "").split())
    if not reviewer:
        raise _invalid("reviewer", "Your name: tell us who is giving this assessment")
    if len(reviewer) > 250:
        raise _invalid("reviewer", "Your name: at most 250 characters")
    return reviewer


@dataclass
class NewAssessment:
    kind: str
    name: str
    value: Any
    rationale: str | None
    span_id: str | None
    reviewer: str

    @property
    def source(self) -> AssessmentSource:
        return AssessmentSource(AssessmentSourceType.HUMAN, self.reviewer)


def parse_new_assessment(form: dict[str, str]) -> NewAssessment:
    kind = form.get("kind", "feedback")
    if kind not in ("feedback", "expectation"):
        raise _invalid("kind", "Type: choose Feedback or Expectation")
    name = form.get("name", "").strip()
    if not name:
        raise _invalid("name", "Name: give the assessment a name, e.g. accuracy_score")
    if len(name) > MAX_NAME_LENGTH:
        raise _invalid("name", f"Name: at most {MAX_NAME_LENGTH} characters ({len(name)} given)")
    rationale = _rationale(form)
    if kind == "expectation" and rationale:
        raise _invalid("rationale", "Rationale: an expectation has no rationale")
    return NewAssessment(
        kind=kind,
        name=name,
        value=parse_value(form),
        rationale=rationale,
        span_id=form.get("span_id") or None,
        reviewer=_reviewer(form),
    )


@dataclass
class Edit:
    value: Any
    rationale: str | None
    reviewer: str


def _rationale(form: dict[str, str]) -> str | None:
    rationale = form.get("rationale", "").strip() or None
    if rationale is not None and len(rationale) > MAX_RATIONALE_LENGTH:
        raise _invalid(
            "rationale",
            f"Rationale: at most {MAX_RATIONALE_LENGTH:,} characters ({len(rationale):,} given)",
        )
    return rationale


def parse_edit(form: dict[str, str]) -> Edit:
    return Edit(parse_value(form), _rationale(form), _reviewer(form))
