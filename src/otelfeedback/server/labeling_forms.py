"""The developer UI's labeling forms: a label schema and a labeling session, from what was
typed to the arguments of ``create_label_schema`` / ``create_labeling_session``."""

from __future__ import annotations

import math
from typing import Any

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.labeling.inputs import INPUT_FIELDS, Input, input_from_dict


def last(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[-1] if values else default


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _int(text: str, argument: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidArgumentError(argument, f"expected a whole number, got {text!r:.40}") from None


def _number(text: str, argument: str) -> float | int | None:
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InvalidArgumentError(argument, f"expected a number, got {text!r:.40}") from None
    if not math.isfinite(number):
        raise InvalidArgumentError(argument, "expected a finite number")
    return int(number) if number.is_integer() and "." not in text else number


def schema_input(form: dict[str, list[str]]) -> Input:
    """The input a schema form describes.

    Raises:
        InvalidArgumentError: naming the field (``options``, ``min_value``...).
    """
    kind = last(form, "input_type", "categorical")
    data: dict[str, Any] = {"type": kind}
    for name in INPUT_FIELDS.get(kind, ()):
        raw = last(form, name)
        if name == "options":
            data[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif name in ("min_value", "max_value"):
            data[name] = _number(raw, name)
        else:
            data[name] = _int(raw, name)
    try:
        return input_from_dict(data)
    except InvalidArgumentError as exc:
        if exc.argument.startswith("input."):
            message = str(exc).removeprefix(f"{exc.argument}: ")
            raise InvalidArgumentError(exc.argument.removeprefix("input."), message) from None
        raise


def schema_arguments(form: dict[str, list[str]]) -> dict[str, Any]:
    """Keyword arguments of ``create_label_schema`` from the form."""
    return {
        "name": last(form, "name").strip(),
        "type": last(form, "type", "feedback"),
        "title": last(form, "title").strip(),
        "input": schema_input(form),
        "instruction": last(form, "instruction").strip() or None,
        "enable_comment": last(form, "enable_comment") == "on",
        "overwrite": last(form, "overwrite") == "1",
    }


def session_arguments(form: dict[str, list[str]]) -> dict[str, Any]:
    """Keyword arguments of ``create_labeling_session`` from the form."""
    per_item = _int(last(form, "reviewers_per_item", "1"), "reviewers_per_item")
    return {
        "name": last(form, "name").strip(),
        "label_schemas": form.get("label_schemas", []),
        "assigned_users": lines(last(form, "assigned_users")) or None,
        "instructions": last(form, "instructions").strip() or None,
        "reviewers_per_item": 1 if per_item is None else per_item,
    }
