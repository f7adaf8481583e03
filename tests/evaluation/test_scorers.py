"""``@scorer`` and ``Scorer``: what a scorer may return and how each becomes feedback; an
exception, or a value JSON cannot hold, becomes an error result."""

from __future__ import annotations

import math
from typing import Any

import pytest

from otelfeedback import AssessmentSource, AssessmentSourceType, Feedback, InvalidArgumentError
from otelfeedback import semconv as sc
from otelfeedback.scorers import Scorer, scorer

CODE = AssessmentSourceType.CODE


def run(s: Scorer, **row: Any) -> list[Feedback]:
    return s.run(
        inputs=row.get("inputs"),
        outputs=row.get("outputs"),
        expectations=row.get("expectations", {}),
        trace=row.get("trace"),
    )


@pytest.mark.parametrize("value", [True, False, 3, 0.5, "partly", ""])
def test_a_primitive_becomes_one_feedback_named_after_the_scorer(value: Any) -> None:
    @scorer
    def judge_me(outputs: Any) -> Any:
        return value

    (feedback,) = run(judge_me, outputs="x")
    assert (feedback.name, feedback.value, feedback.error) == ("judge_me", value, None)
    assert feedback.source == AssessmentSource(CODE, "judge_me")
    assert feedback.metadata == {sc.SCORER: "judge_me"}


def test_a_feedback_keeps_its_name_and_source_unless_they_are_the_defaults() -> None:
    @scorer(name="checks")
    def checks(outputs: Any) -> list[Feedback]:
        return [
            Feedback(value=True, rationale="default name"),
            Feedback(name="has_paris", value="Paris" in outputs),
            Feedback(name="by_bot", value=1, source=AssessmentSource(CODE, "bot-7")),
        ]

    results = run(checks, outputs="Paris")
    assert [(f.name, f.value) for f in results] == [
        ("checks", True),
        ("has_paris", True),
        ("by_bot", 1),
    ]
    assert [f.source.source_id for f in results] == ["checks", "checks", "bot-7"]
    assert results[0].rationale == "default name"


def test_a_list_of_primitives_gives_one_feedback_each_and_none_gives_nothing() -> None:
    @scorer
    def many(outputs: Any) -> list[int]:
        return [1, 2, 3]

    @scorer
    def nothing(outputs: Any) -> None:
        return None

    assert [f.value for f in run(many, outputs="x")] == [1, 2, 3]
    assert run(nothing, outputs="x") == []


@pytest.mark.parametrize(
    ("returned", "code"),
    [
        ({"a": 1}, "SCORER_RETURN_TYPE"),
        (object(), "SCORER_RETURN_TYPE"),
        (math.nan, "SCORER_VALUE"),
        (math.inf, "SCORER_VALUE"),
        (Feedback(name="x"), "SCORER_VALUE"),
        (Feedback(name="x", value={"k": math.nan}), "SCORER_VALUE"),
    ],
)
def test_a_value_that_cannot_be_feedback_is_an_error_result(returned: Any, code: str) -> None:
    @scorer
    def odd(outputs: Any) -> Any:
        return returned

    (feedback,) = run(odd, outputs="x")
    assert feedback.value is None and feedback.error is not None
    assert feedback.error.error_code == code and feedback.name == "odd"


def test_an_exception_is_an_error_result_with_its_message_and_stack() -> None:
    @scorer
    def broken(outputs: Any) -> bool:
        raise ValueError("cannot parse the answer")

    (feedback,) = run(broken, outputs="x")
    assert feedback.error is not None
    assert feedback.error.error_code == "ValueError"
    assert feedback.error.error_message == "cannot parse the answer"
    assert "broken" in (feedback.error.stack_trace or "")


def test_a_scorer_gets_only_the_fields_it_declares() -> None:
    seen: dict[str, Any] = {}

    @scorer
    def picky(expectations: Any, inputs: Any) -> bool:
        seen.update(inputs=inputs, expectations=expectations)
        return True

    assert picky.fields == ("expectations", "inputs")
    run(picky, inputs={"q": 1}, outputs="x", expectations={"e": 2})
    assert seen == {"inputs": {"q": 1}, "expectations": {"e": 2}}

    @scorer
    def everything(**fields: Any) -> int:
        return len(fields)

    assert run(everything, outputs="x")[0].value == 4


def test_an_async_scorer_is_awaited() -> None:
    @scorer
    async def slow(outputs: Any) -> str:
        return outputs.upper()

    assert run(slow, outputs="ok")[0].value == "OK"


def test_a_parameter_that_is_not_a_row_field_is_an_argument_error() -> None:
    with pytest.raises(InvalidArgumentError, match="'answer' is not a row field"):

        @scorer
        def bad(answer: str) -> bool:
            return True


def test_bad_aggregations_are_an_argument_error() -> None:
    with pytest.raises(InvalidArgumentError, match="aggregations"):
        scorer(aggregations=["mean", "mode"])(lambda outputs: 1)


def test_a_scorer_subclass_declares_its_fields_with_call() -> None:
    class Length(Scorer):
        def __call__(self, *, outputs: Any) -> int:
            return len(outputs)

    length = Length(aggregations=["max"])
    assert (length.name, length.fields, length.aggregations) == ("length", ("outputs",), ("max",))
    assert run(length, outputs="abcd")[0].value == 4
    assert length.describe()["type"] == "code"
