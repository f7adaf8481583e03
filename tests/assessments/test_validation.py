"""Every validation error names the argument, says what was expected, and records nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otelfeedback import (
    AssessmentError,
    AssessmentSource,
    delete_assessment,
    get_assessment,
    get_trace,
    log_expectation,
    log_feedback,
    override_feedback,
    update_assessment,
)
from otelfeedback.errors import InvalidArgumentError

GOOD_TRACE = "0af7651916cd43dd8448eb211c80319c"


class Opaque:
    pass


FEEDBACK_ERRORS: list[tuple[dict[str, Any], str, str]] = [
    ({"trace_id": 123}, "trace_id", "expected a 32-character hex string, got int"),
    ({"trace_id": "xyz"}, "trace_id", "32-character hex OpenTelemetry trace id"),
    ({"trace_id": "0" * 32}, "trace_id", "32-character hex"),
    ({"span_id": "123"}, "span_id", "16-character hex OpenTelemetry span id"),
    ({"span_id": 5}, "span_id", "expected a 16-character hex string, got int"),
    ({"name": ""}, "name", "must not be empty"),
    ({"name": "   "}, "name", "must not be empty"),
    ({"name": None}, "name", "expected a string, got NoneType"),
    ({"name": "n" * 251}, "name", "at most 250 characters"),
    ({"value": None}, "value", "needs a value (or an error)"),
    ({"value": Opaque()}, "value", "is a Opaque; expected a JSON value"),
    ({"value": {"a": {1, 2}}}, "value", "value['a'] is a set"),
    ({"value": {1: "x"}}, "value", "non-string key 1"),
    ({"value": float("nan")}, "value", "which JSON cannot hold"),
    ({"rationale": 5}, "rationale", "expected a string or None, got int"),
    ({"metadata": ["a"]}, "metadata", "expected a dict with string keys, got list"),
    ({"metadata": {"k": Opaque()}}, "metadata", "is a Opaque"),
    ({"source": "HUMAN"}, "source", "expected an AssessmentSource, got str"),
    ({"source": AssessmentSource("ROBOT", "x")}, "source", "unknown source_type 'ROBOT'"),
    ({"source": AssessmentSource("HUMAN", "")}, "source", "source_id must be a non-empty"),
    ({"source": AssessmentSource("HUMAN", "s" * 251)}, "source", "at most 250"),
    ({"error": 42}, "error", "expected an AssessmentError, an exception or a message"),
    ({"error": AssessmentError("")}, "error", "error_code must be a non-empty string"),
]


def _segment_bytes(store_dir: Path) -> int:
    return sum(p.stat().st_size for p in (store_dir / "traces").glob("segment-*.jsonl"))


@pytest.mark.parametrize(("changes", "argument", "message"), FEEDBACK_ERRORS)
def test_log_feedback_rejects_bad_arguments(
    traced_call: Callable[[], str],
    store_dir: Path,
    changes: dict[str, Any],
    argument: str,
    message: str,
) -> None:
    trace_id = traced_call()
    get_trace(trace_id)  # flushed: the store holds the trace and nothing else is pending
    before = _segment_bytes(store_dir)
    kwargs: dict[str, Any] = {"trace_id": trace_id, "name": "n", "value": True, **changes}
    with pytest.raises(InvalidArgumentError) as info:
        log_feedback(**kwargs)
    assert info.value.argument == argument
    assert str(info.value).startswith(f"{argument}: ")
    assert message in str(info.value)
    assert get_trace(trace_id).assessments == []
    assert _segment_bytes(store_dir) == before


def test_source_type_is_case_insensitive(traced_call: Callable[[], str]) -> None:
    fb = log_feedback(traced_call(), "n", 1, source=AssessmentSource("llm_judge", "gpt"))
    assert str(fb.source.source_type) == "LLM_JUDGE"


def test_ids_are_normalized_to_lowercase(traced_call: Callable[[], str]) -> None:
    trace_id = traced_call()
    fb = log_feedback(trace_id.upper(), "n", True)
    assert fb.trace_id == trace_id


def test_expectation_needs_a_value_and_a_name(traced_call: Callable[[], str]) -> None:
    trace_id = traced_call()
    with pytest.raises(InvalidArgumentError, match=r"^value: an expectation needs a value"):
        log_expectation(trace_id, "expected", None)
    with pytest.raises(InvalidArgumentError, match=r"^name: must not be empty"):
        log_expectation(trace_id, "", "x")
    assert get_trace(trace_id).assessments == []


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: get_assessment(GOOD_TRACE, "nope"), "assessment_id"),
        (lambda: delete_assessment(GOOD_TRACE, "a-123"), "assessment_id"),
        (lambda: delete_assessment("bad", "a-" + "0" * 32), "trace_id"),
        (lambda: override_feedback(GOOD_TRACE, "a-" + "0" * 32, None), "value"),
        (lambda: override_feedback(GOOD_TRACE, "x", True), "assessment_id"),
        (lambda: update_assessment(GOOD_TRACE, "a-" + "0" * 32, "feedback"), "assessment"),  # type: ignore[arg-type]
        (lambda: update_assessment(GOOD_TRACE, "a-" + "0" * 32, name=""), "name"),
    ],
)
def test_other_functions_reject_bad_arguments(
    store_dir: Path, call: Callable[[], object], argument: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        call()
    assert info.value.argument == argument
