"""Safe serialization of anything a traced function takes or returns, and the size cap."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from typing import Any

import pytest

import otelfeedback
from otelfeedback._internal.serialization import to_json
from otelfeedback.testing import capture_spans


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Doc:
    id: int
    tags: set[str]


class Opaque:
    pass


class Exploding:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("no attributes for you")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": [1, 2.5, None, True]}, {"a": [1, 2.5, None, True]}),
        (Doc(1, {"b", "a"}), {"id": 1, "tags": ["a", "b"]}),
        (Color.RED, "red"),
        (datetime.datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05"),
        (datetime.date(2026, 1, 2), "2026-01-02"),
        (b"bytes", "bytes"),
        (b"\xff\x00", "base64:/wA="),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ((1, 2), [1, 2]),
        ({1: "int key", (2, 3): "tuple key"}, {"1": "int key", "(2, 3)": "tuple key"}),
        (float("nan"), "nan"),
        (Opaque(), "<Opaque object>"),
    ],
)
def test_to_json_gives_a_natural_form_and_never_raises(value: Any, expected: Any) -> None:
    assert json.loads(to_json(value)) == expected


def test_circular_structures_are_marked_not_fatal() -> None:
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    assert json.loads(to_json(loop)) == {"name": "loop", "self": "<circular reference>"}


def test_shared_and_deep_values_encode_whole_and_too_deep_never_raises() -> None:
    shared = [1, 2]
    assert json.loads(to_json({"a": shared, "b": shared})) == {"a": [1, 2], "b": [1, 2]}
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    assert json.loads(to_json(deep)) == deep
    for _ in range(5000):  # past the interpreter's recursion limit: cut, not raised
        deep = [deep]
    assert "<max depth>" in to_json(deep)


def test_pydantic_style_models_use_model_dump() -> None:
    class Model:
        def model_dump(self, mode: str = "python") -> dict[str, Any]:
            return {"mode": mode}

    assert json.loads(to_json({"m": Model()})) == {"m": {"mode": "json"}}


def test_oversized_values_are_cut_with_an_explicit_marker() -> None:
    @otelfeedback.trace
    def big(text: str) -> str:
        return text

    with capture_spans(max_value_length=100) as spans:
        big("x" * 1000)
        attrs = spans.get_finished_spans()[0].attributes
    out = attrs["output.value"]
    assert out.startswith("x" * 100)
    assert out.endswith("…[truncated 900 chars]")
    assert attrs["output.mime_type"] == "text/plain"
    assert (
        "input.value" in attrs["otelfeedback.truncated"]
        or "output.value" in attrs["otelfeedback.truncated"]
    )


def test_unserializable_arguments_never_break_the_call() -> None:
    @otelfeedback.trace
    def takes(obj: Any) -> Any:
        return obj

    thing = Exploding()
    with capture_spans() as spans:
        assert takes(thing) is thing
        attrs = spans.get_finished_spans()[0].attributes
    assert json.loads(attrs["input.value"]) == {"obj": "<Exploding object>"}
