"""A dataset's schema: one JSON type per field of ``inputs`` and of ``expectations``.

A field may be absent or null in some records, but where it is present it keeps one type
(string, number, boolean, array or object) across the dataset: ``inputs.question`` cannot be
a string in one record and an object in another. The schema grows as fields are added and is
kept on the dataset; a merge that breaks it (within its batch or against the dataset) is an
argument error naming the record and the field, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from otelfeedback.datasets.normalize import Incoming
from otelfeedback.errors import InvalidArgumentError

SECTIONS = ("inputs", "expectations")


def type_name(value: Any) -> str | None:
    """The schema type of a JSON value (None for null: it fits any type)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object"


def _a(name: str) -> str:
    return ("an " if name[0] in "aeiou" else "a ") + name


def extend(schema: dict[str, Any], batch: Sequence[Incoming]) -> dict[str, Any]:
    """The schema with the batch's fields added.

    Raises:
        InvalidArgumentError: a field's type differs from the dataset's or from an earlier
            record of the batch (``records[i].inputs.question``).
    """
    result: dict[str, Any] = {}
    for section in SECTIONS:
        known: dict[str, str] = dict(schema.get(section) or {})
        seen = dict.fromkeys(known, "the dataset")
        for incoming in batch:
            values = incoming.inputs if section == "inputs" else incoming.expectations
            for key, value in (values or {}).items():
                kind = type_name(value)
                if kind is None:
                    continue
                before = known.get(key)
                if before is None:
                    known[key] = kind
                    seen[key] = incoming.where
                elif before != kind:
                    raise InvalidArgumentError(
                        f"{incoming.where}.{section}.{key}",
                        f"is {_a(kind)}, but {_a(before)} in {seen[key]}: a dataset keeps "
                        "one type per field",
                    )
        result[section] = known
    return result
