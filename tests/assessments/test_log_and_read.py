"""Logging feedback and expectations, reading them back, overrides, updates and deletes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback import (
    AssessmentError,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
    delete_assessment,
    get_assessment,
    get_trace,
    log_expectation,
    log_feedback,
    override_feedback,
    search_traces,
    update_assessment,
)
from otelfeedback.errors import InvalidArgumentError, NotFoundError


def test_seed_step_2_end_user_thumbs_down(traced_call: Callable[[], str]) -> None:
    trace_id = traced_call()
    feedback = log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale="Missing details about MLflow's key features like Projects and Model Registry",
        source=AssessmentSource(
            source_type=AssessmentSourceType.HUMAN,
            source_id="enduser_123",
        ),
    )
    assert isinstance(feedback, Feedback)
    assert feedback.assessment_id and feedback.assessment_id.startswith("a-")
    (stored,) = get_trace(trace_id).assessments
    assert stored.to_dict() == {**feedback.to_dict(), "span_id": None}
    assert stored.value is False
    assert stored.source == AssessmentSource(AssessmentSourceType.HUMAN, "enduser_123")
    assert stored.rationale.startswith("Missing details")
    (found,) = search_traces("feedback.user_feedback = false")
    assert found.trace_id == trace_id


def test_feedback_on_a_span_and_defaults(traced_call: Callable[[], str]) -> None:
    trace_id = traced_call()
    retrieve = next(s for s in get_trace(trace_id).spans if s.name == "retrieve")
    fb = log_feedback(trace_id, "relevance", 0.8, span_id=retrieve.span_id)
    ex = log_expectation(trace_id, "expected_response", {"text": "An ML platform", "facts": [1]})
    assert fb.source == AssessmentSource(AssessmentSourceType.CODE, "default")
    assert ex.source == AssessmentSource(AssessmentSourceType.HUMAN, "default")
    trace = get_trace(trace_id)
    by_name = {a.name: a for a in trace.assessments}
    assert by_name["relevance"].span_id == retrieve.span_id
    assert isinstance(by_name["expected_response"], Expectation)
    assert by_name["expected_response"].value == {"text": "An ML platform", "facts": [1]}
    assert get_assessment(trace_id, fb.assessment_id or "").value == 0.8


def test_feedback_with_error_instead_of_value(traced_call: Callable[[], str]) -> None:
    trace_id = traced_call()
    try:
        raise TimeoutError("judge timed out")
    except TimeoutError as exc:
        fb = log_feedback(trace_id, "judge", error=exc)
    stored = get_assessment(trace_id, fb.assessment_id or "")
    assert stored.value is None
    assert stored.error is not None and stored.error.error_code == "TimeoutError"
    assert "judge timed out" in (stored.error.stack_trace or "")


def test_feedback_while_the_span_is_still_recording_becomes_an_event(store_dir: Path) -> None:
    with otelfeedback.start_span("answer") as span:
        fb = log_feedback(span.trace_id, "inline", True, span_id=span.span_id)
        trace_id = span.trace_id
    trace = get_trace(trace_id)
    (only,) = trace.spans
    assert [e.name for e in only.events] == ["gen_ai.evaluation.result"]
    assert [a.assessment_id for a in trace.assessments] == [fb.assessment_id]


def test_trace_level_feedback_inside_the_traced_call_targets_the_live_root(
    store_dir: Path,
) -> None:
    @otelfeedback.trace
    def app() -> str:
        trace_id = otelfeedback.get_current_trace_id()
        assert trace_id is not None
        log_feedback(trace_id, "self_check", "ok")
        return trace_id

    trace_id = app()
    trace = get_trace(trace_id)
    assert trace.spans[0].events[0].attributes["gen_ai.evaluation.name"] == "self_check"
    assert trace.assessments[0].value == "ok"


def test_override_keeps_history_and_delete_restores(traced_call: Callable[[], str]) -> None:
    trace_id = traced_call()
    first = log_feedback(trace_id, "user_feedback", False)
    second = override_feedback(trace_id, first.assessment_id or "", True, rationale="expert")
    assert second.overrides == first.assessment_id
    assert second.source.source_type == AssessmentSourceType.HUMAN
    third = override_feedback(trace_id, second.assessment_id or "", "partially")
    states = {a.assessment_id: a.valid for a in get_trace(trace_id).assessments}
    assert states == {
        first.assessment_id: False,
        second.assessment_id: False,
        third.assessment_id: True,
    }
    assert len(search_traces("feedback.user_feedback = 'partially'")) == 1
    assert len(search_traces("feedback.user_feedback = false")) == 0
    delete_assessment(trace_id, third.assessment_id or "")
    states = {a.assessment_id: a.valid for a in get_trace(trace_id).assessments}
    assert states == {first.assessment_id: False, second.assessment_id: True}
    delete_assessment(trace_id, third.assessment_id or "")  # idempotent
    with pytest.raises(NotFoundError):
        get_assessment(trace_id, third.assessment_id or "")


def test_override_of_an_expectation_is_rejected(traced_call: Callable[[], str]) -> None:
    trace_id = traced_call()
    ex = log_expectation(trace_id, "expected", "x")
    with pytest.raises(InvalidArgumentError, match=r"assessment_id: .* is an expectation"):
        override_feedback(trace_id, ex.assessment_id or "", "y")
    assert len(get_trace(trace_id).assessments) == 1


def test_update_edits_in_place_and_merges_metadata(traced_call: Callable[[], str]) -> None:
    trace_id = traced_call()
    fb = log_feedback(trace_id, "tone", "rude", rationale="r1", metadata={"a": 1, "b": 1})
    updated = update_assessment(trace_id, fb.assessment_id or "", value="polite", metadata={"b": 2})
    assert (updated.value, updated.rationale, updated.metadata) == (
        "polite",
        "r1",
        {"a": 1, "b": 2},
    )
    (stored,) = get_trace(trace_id).assessments
    assert stored.to_dict() == updated.to_dict()
    assert stored.create_time_ms == fb.create_time_ms
    via_entity = update_assessment(
        trace_id, fb.assessment_id or "", Feedback(name="tone2", value=3)
    )
    assert (via_entity.name, via_entity.value) == ("tone2", 3)
    with pytest.raises(InvalidArgumentError, match=r"assessment: .* is a feedback"):
        update_assessment(trace_id, fb.assessment_id or "", Expectation(name="x", value=1))


def test_unknown_trace_or_span_raises_and_writes_nothing(
    traced_call: Callable[[], str], store_dir: Path
) -> None:
    trace_id = traced_call()
    with pytest.raises(NotFoundError, match=r"trace 'f+' not found"):
        log_feedback("f" * 32, "x", True)
    with pytest.raises(NotFoundError, match="span 'ffffffffffffffff' not found"):
        log_feedback(trace_id, "x", True, span_id="f" * 16)
    with pytest.raises(NotFoundError):
        override_feedback(trace_id, "a-" + "0" * 32, True)
    assert get_trace(trace_id).assessments == []


def test_without_a_store_feedback_still_goes_on_the_wire(tmp_path: Path) -> None:
    from otelfeedback.testing import CapturedSpans

    exporter = CapturedSpans()
    otelfeedback.configure(store="", exporters=[exporter])
    fb = log_feedback("ab" * 16, "user_feedback", True, span_id="cd" * 8)
    otelfeedback.flush()
    (carrier,) = exporter.get_finished_spans()
    # Nothing of the trace is known here: the carrier is a trace of its own (it cannot change
    # the target trace), linked to the target span; the record names the target trace.
    assert format(carrier.context.trace_id, "032x") != "ab" * 16
    assert carrier.parent is None
    [link] = carrier.links
    assert (format(link.context.trace_id, "032x"), format(link.context.span_id, "016x")) == (
        "ab" * 16,
        "cd" * 8,
    )
    assert carrier.attributes["otelfeedback.assessment.trace_id"] == "ab" * 16
    assert carrier.attributes["otelfeedback.assessment.id"] == fb.assessment_id
    with pytest.raises(otelfeedback.ConfigurationError, match="needs a store"):
        get_assessment("ab" * 16, fb.assessment_id or "")


def test_assessment_error_from_string() -> None:
    from otelfeedback.assessments.validation import check_error

    assert check_error("boom") == AssessmentError("ASSESSMENT_ERROR", "boom")
