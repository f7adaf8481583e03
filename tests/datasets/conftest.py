"""A file store with a few traced calls of a small chatbot, some with expert expectations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.assessments import AssessmentSource, AssessmentSourceType

QUESTIONS = ("What is MLflow?", "How do I log a model?", "What is a trace?")


@otelfeedback.trace
def chatbot(question: str) -> str:
    return f"Here is what I know about {question.lower().rstrip('?')}."


@dataclass
class Traced:
    store: Path | str  # a file store directory or a PostgreSQL URL
    trace_ids: list[str]  # one per question, in QUESTIONS order


def trace_questions(store: Path | str) -> Traced:
    otelfeedback.configure(store=store, service_name="chatbot")
    trace_ids = []
    for question in QUESTIONS:
        chatbot(question)
        trace_id = otelfeedback.get_last_active_trace_id()
        assert trace_id is not None
        trace_ids.append(trace_id)
    expert = AssessmentSource(AssessmentSourceType.HUMAN, "expert@example.com")
    otelfeedback.log_expectation(
        trace_id=trace_ids[0],
        name="expected_response",
        value="MLflow is an open-source platform for the ML lifecycle.",
        source=expert,
    )
    otelfeedback.log_expectation(
        trace_id=trace_ids[0], name="expected_facts", value=["open source"], source=expert
    )
    otelfeedback.log_feedback(trace_id=trace_ids[1], name="user_feedback", value=False)
    otelfeedback.flush()
    return Traced(store, trace_ids)


@pytest.fixture
def traced(store_location: Path | str) -> Traced:
    """The traced questions in a store of each kind."""
    return trace_questions(store_location)
