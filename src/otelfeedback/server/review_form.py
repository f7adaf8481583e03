"""The review app's label form: read it (fields repeat for checkboxes), turn what was typed
into answers, check each against its schema, and give back what to show again.

Fields are numbered by the schema's place in the session: ``label-<i>`` (repeated for a list
of categories) and ``comment-<i>``. Every schema is checked, so all mistakes show at once.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.labeling.board import DONE, Review
from otelfeedback.labeling.inputs import InputCategoricalList, InputNumeric, InputTextList
from otelfeedback.labeling.schemas import LabelSchema

MAX_FORM_BYTES = 1024 * 1024
MAX_FIELDS = 1000


class FormErrors(Exception):
    """Answers that do not fit: field name -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


async def read(request: Request) -> dict[str, list[str]]:
    """The posted form: every field's values, in order (text fields only)."""
    async with request.form(
        max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FORM_BYTES
    ) as form:
        result: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                result.setdefault(key, []).append(value)
        return result


def _number(text: str) -> int | float | None:
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r:.40} is not a number") from None
    if not math.isfinite(number):
        raise ValueError("enter a finite number")
    return int(number) if number.is_integer() and not any(c in text for c in ".eE") else number


def parse(
    schemas: list[LabelSchema], form: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any], dict[str, str]]:
    """The answers and comments by schema name, the values to show again and the errors
    by field name."""
    labels: dict[str, Any] = {}
    comments: dict[str, str] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for i, schema in enumerate(schemas):
        key = f"label-{i}"
        raw = form.get(key, [])
        last = raw[-1] if raw else ""
        answer: Any
        try:
            if isinstance(schema.input, InputCategoricalList):
                values[key] = raw
                answer = raw or None
            elif isinstance(schema.input, InputTextList):
                values[key] = last
                answer = [line for line in last.splitlines() if line.strip()] or None
            elif isinstance(schema.input, InputNumeric):
                values[key] = last
                answer = _number(last)
            else:
                values[key] = last
                answer = last or None
            checked = schema.check(answer)
        except ValueError as exc:
            errors[key] = _message(exc)
            continue
        if checked is not None:
            labels[schema.name] = checked
        if schema.enable_comment:
            comment = (form.get(f"comment-{i}") or [""])[-1]
            values[f"comment-{i}"] = comment
            if comment.strip():
                comments[schema.name] = comment
    return labels, comments, values, errors


def _message(exc: ValueError) -> str:
    if isinstance(exc, InvalidArgumentError):
        return str(exc).removeprefix(f"{exc.argument}: ")
    return str(exc)


def errors_of(schemas: list[LabelSchema], exc: InvalidArgumentError) -> dict[str, str]:
    """The field an SDK error names (``labels.<schema>`` / ``comments.<schema>``)."""
    for i, schema in enumerate(schemas):
        if exc.argument == f"labels.{schema.name}":
            return {f"label-{i}": _message(exc)}
        if exc.argument == f"comments.{schema.name}":
            return {f"comment-{i}": _message(exc)}
    return {}


def current_values(schemas: list[LabelSchema], review: Review | None) -> dict[str, Any]:
    """The form's fields filled with the reviewer's answers so far."""
    values: dict[str, Any] = {}
    if review is None or review.state != DONE:
        return values
    for i, schema in enumerate(schemas):
        if schema.name in review.labels:
            answer = review.labels[schema.name]
            if isinstance(schema.input, InputTextList):
                answer = "\n".join(answer)
            elif isinstance(schema.input, InputNumeric):
                answer = str(answer)
            values[f"label-{i}"] = answer
        if schema.name in review.comments:
            values[f"comment-{i}"] = review.comments[schema.name]
    return values
