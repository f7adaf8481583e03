"""Label schemas: create, read, replace, delete; every bad argument is a typed error that
names it, and writes nothing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback.errors import InvalidArgumentError, NotFoundError
from otelfeedback.labeling import (
    InputCategorical,
    InputCategoricalList,
    InputNumeric,
    InputText,
    InputTextList,
    create_label_schema,
    create_labeling_session,
    delete_label_schema,
    get_label_schema,
    list_label_schemas,
)
from otelfeedback.labeling.inputs import input_from_dict


@pytest.fixture(autouse=True)
def _store(tmp_path: Path) -> None:
    otelfeedback.configure(store=tmp_path / "store")


def test_create_get_list_and_delete() -> None:
    accuracy = create_label_schema(
        "response_accuracy",
        type="feedback",
        title="Is the response factually accurate?",
        input=InputCategorical(["Accurate", "Partially Accurate", "Inaccurate"]),
        instruction="Compare with the docs.",
        enable_comment=True,
    )
    assert accuracy.schema_id.startswith("ls-") and accuracy.created_time_ms > 0
    assert get_label_schema("response_accuracy") == accuracy
    create_label_schema("expected_response", type="expectation", title="Ideal?", input=InputText())
    assert [s.name for s in list_label_schemas()] == ["expected_response", "response_accuracy"]
    delete_label_schema("expected_response")
    with pytest.raises(NotFoundError, match="expected_response"):
        get_label_schema("expected_response")
    with pytest.raises(NotFoundError):
        delete_label_schema("expected_response")


def test_an_existing_name_needs_overwrite_and_overwrite_replaces_it() -> None:
    create_label_schema("score", title="Score?", input=InputNumeric(0, 5))
    with pytest.raises(InvalidArgumentError) as info:
        create_label_schema("score", title="Again?", input=InputNumeric(0, 10))
    assert info.value.argument == "name" and "overwrite=True" in str(info.value)
    assert get_label_schema("score").title == "Score?"
    replaced = create_label_schema(
        "score", title="Again?", input=InputNumeric(0, 10), overwrite=True
    )
    assert get_label_schema("score") == replaced
    assert replaced.input == InputNumeric(0, 10)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: InputCategorical([]), "options"),
        (lambda: InputCategorical("Accurate"), "options"),
        (lambda: InputCategorical(["a", "a"]), "options[1]"),
        (lambda: InputCategorical(["a", ""]), "options[1]"),
        (lambda: InputCategoricalList(["a", 3]), "options[1]"),
        (lambda: InputNumeric(min_value=5, max_value=1), "min_value"),
        (lambda: InputNumeric(min_value=math.nan), "min_value"),
        (lambda: InputNumeric(max_value=math.inf), "max_value"),
        (lambda: InputNumeric(max_value=True), "max_value"),
        (lambda: InputText(max_length=0), "max_length"),
        (lambda: InputText(max_length=True), "max_length"),
        (lambda: InputTextList(max_count=-1), "max_count"),
    ],
)
def test_bad_inputs_name_the_argument(build: Any, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        build()
    assert info.value.argument == argument


@pytest.mark.parametrize(
    ("changes", "argument"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 251}, "name"),
        ({"type": "rating"}, "type"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"input": {"type": "text"}}, "input"),
        ({"instruction": 3}, "instruction"),
        ({"enable_comment": "yes"}, "enable_comment"),
        ({"overwrite": 1}, "overwrite"),
    ],
)
def test_bad_arguments_name_the_argument_and_write_nothing(
    changes: dict[str, Any], argument: str
) -> None:
    arguments: dict[str, Any] = {"name": "ok", "title": "Q?", "input": InputText(), **changes}
    name = arguments.pop("name")
    with pytest.raises(InvalidArgumentError) as info:
        create_label_schema(name, **arguments)
    assert info.value.argument == argument
    assert list_label_schemas() == []


def test_names_are_free_text_and_round_trip() -> None:
    for name in ["Is it accurate?", "café ☕ 𝄞", "a\ud800b", "x" * 250, "with.dots and/slash"]:
        create_label_schema(name, title="Q?", input=InputText(max_length=10))
        assert get_label_schema(name).name == name


def test_inputs_round_trip_through_their_json_form() -> None:
    for value in [
        InputCategorical(["a", "b"]),
        InputCategoricalList(["a", "b"]),
        InputText(),
        InputText(max_length=5),
        InputTextList(max_length_each=3, max_count=2),
        InputNumeric(),
        InputNumeric(-1.5, 10),
    ]:
        assert input_from_dict(value.to_dict()) == value
    with pytest.raises(InvalidArgumentError) as info:
        input_from_dict({"type": "numeric", "min_value": 3, "max_value": 1})
    assert info.value.argument == "input.min_value"
    with pytest.raises(InvalidArgumentError, match=r"input\.type"):
        input_from_dict({"type": "stars"})
    with pytest.raises(InvalidArgumentError, match="takes options"):
        input_from_dict({"type": "categorical", "choices": ["a"]})


def test_answers_are_checked_against_the_input() -> None:
    categorical = InputCategorical(["Accurate", "Inaccurate"])
    assert categorical.check("Accurate") == "Accurate"
    assert categorical.check(None) is None and categorical.check("") is None
    with pytest.raises(ValueError, match="expected one of"):
        categorical.check("Great")
    many = InputCategoricalList(["a", "b", "c"])
    assert many.check(["c", "a"]) == ["a", "c"]  # in the options' order
    assert many.check([]) is None
    with pytest.raises(ValueError, match="'z' is not one of"):
        many.check(["a", "z"])
    text = InputText(max_length=5)
    assert text.check("hello") == "hello"
    assert text.check("   ") is None
    with pytest.raises(ValueError, match="at most 5"):
        text.check("hello!")
    assert InputText().check("x" * 100_000) == "x" * 100_000
    with pytest.raises(ValueError, match="at most 100,000"):
        InputText().check("x" * 100_001)
    assert InputText().check("lone \ud800 surrogate") == "lone \ud800 surrogate"
    texts = InputTextList(max_length_each=3, max_count=2)
    assert texts.check(["abc", " ", "de"]) == ["abc", "de"]
    with pytest.raises(ValueError, match="at most 2 entries"):
        texts.check(["a", "b", "c"])
    number = InputNumeric(0, 10)
    assert number.check(10) == 10 and number.check(0.5) == 0.5
    for bad in [11, -0.1, math.nan, math.inf, True, "5", 2**70]:
        with pytest.raises(ValueError):
            number.check(bad)
    assert InputNumeric().check(2**70) == 2**70  # unbounded: any finite number


def test_a_schema_in_use_cannot_be_deleted() -> None:
    create_label_schema("q", title="Q?", input=InputText())
    create_labeling_session("s1", label_schemas=["q"])
    with pytest.raises(InvalidArgumentError, match="'s1'"):
        delete_label_schema("q")
    assert get_label_schema("q").name == "q"
