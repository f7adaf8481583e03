"""The tolerant reading of a judge's answer: schema-conforming JSON, fenced or embedded JSON,
``Result:`` lines; values coerced to the judge's type; anything else a clear error code."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from otelfeedback.evaluation.verdicts import JudgeError, ValueSpec, parse_verdict

YES_NO = ValueSpec()


@pytest.mark.parametrize(
    ("answer", "value", "rationale"),
    [
        ('{"rationale": "It matches.", "result": "yes"}', "yes", "It matches."),
        ('{"Result": "No", "Reasoning": "Misses X."}', "no", "Misses X."),
        ('Sure!\n```json\n{"verdict": "yes", "explanation": "ok"}\n```', "yes", "ok"),
        ('Here you go: {"answer": true, "reason": "fine"} Hope it helps', "yes", "fine"),
        ("**Rationale:** Short.\n**Result:** Yes.", "yes", "Short."),
        ("Verdict = no", "no", None),
        ('{"result": "PASS"}', "yes", None),
    ],
)
def test_yes_no_answers_in_many_shapes(answer: str, value: str, rationale: str | None) -> None:
    assert parse_verdict(answer, YES_NO) == (value, rationale)


@pytest.mark.parametrize(
    "answer",
    ["", "I am not sure.", '{"rationale": "only a reason"}', '{"result": "maybe"}', "[1, 2]"],
)
def test_answers_without_a_usable_verdict_raise_a_malformed_answer(answer: str) -> None:
    with pytest.raises(JudgeError) as caught:
        parse_verdict(answer, YES_NO)
    assert caught.value.code == "JUDGE_MALFORMED_ANSWER"


@pytest.mark.parametrize(
    ("value_type", "raw", "expected"),
    [
        (bool, "True", True),
        (bool, "no", False),
        (int, "4", 4),
        (int, 4.0, 4),
        (float, "0.75", 0.75),
        (str, "  partly  ", "partly"),
        (Literal["good", "bad"], "BAD", "bad"),
        (Literal[1, 2, 3], 2, 2),
    ],
)
def test_values_are_coerced_to_the_judges_type(value_type: Any, raw: Any, expected: Any) -> None:
    assert ValueSpec.of(value_type).coerce(raw) == expected


@pytest.mark.parametrize(
    ("value_type", "raw"),
    [
        (int, "4.5"),
        (int, True),
        (float, "NaN"),
        (float, "Infinity"),
        (bool, "sometimes"),
        (str, ""),
        (Literal["good", "bad"], "fine"),
    ],
)
def test_values_outside_the_type_raise(value_type: Any, raw: Any) -> None:
    with pytest.raises(JudgeError, match="expected"):
        ValueSpec.of(value_type).coerce(raw)


def test_the_answer_schema_names_the_value_type() -> None:
    assert ValueSpec().schema()["properties"]["result"] == {"type": "string", "enum": ["yes", "no"]}
    assert ValueSpec.of(Literal["a", "b"]).schema()["properties"]["result"] == {"enum": ["a", "b"]}
    assert ValueSpec().schema()["required"] == ["rationale", "result"]


def test_a_huge_answer_is_read_without_trouble() -> None:
    answer = '{"rationale": "' + "x" * 5_000_000 + '", "result": "no"}'
    value, rationale = parse_verdict(answer, YES_NO)
    assert value == "no" and rationale is not None and len(rationale) == 5_000_000
