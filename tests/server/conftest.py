"""Fixtures: a file store with the quickstart's trace (steps 1-2) and a live server on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.assessments import AssessmentSource, AssessmentSourceType
from tests.server.live import LiveServer

RATIONALE = "Missing details about MLflow's key features like Projects and Model Registry"
SCRIPT_OUTPUT = (
    'Sure! <script>window.__pwned = true</script><img src=x onerror="window.__pwned=true">'
)


@dataclass
class Seeded:
    store: Path | str  # a file store directory or a PostgreSQL URL
    trace_id: str  # the chatbot trace with user_feedback = false (steps 1-2)
    script_trace_id: str  # a trace whose output contains <script>
    root_span_id: str
    retriever_span_id: str


@otelfeedback.trace(span_type="RETRIEVER")
def retrieve_context(query: str) -> str:
    return "MLflow is an open-source platform for managing the ML lifecycle."


@otelfeedback.trace
def my_chatbot(user_question: str) -> str:
    retrieve_context(user_question)
    return "MLflow is an open-source platform for ML."


@otelfeedback.trace
def risky(question: str) -> str:
    return SCRIPT_OUTPUT


def seed(store: Path | str) -> Seeded:
    """Steps 1-2 of the tutorial, with the SDK, into ``store``."""
    otelfeedback.configure(store=store, service_name="chatbot")
    my_chatbot("What is MLflow?")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    otelfeedback.log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale=RATIONALE,
        source=AssessmentSource(AssessmentSourceType.HUMAN, "enduser_123"),
    )
    risky("<b>hello</b>")
    script_trace_id = otelfeedback.get_last_active_trace_id()
    assert script_trace_id is not None
    trace = otelfeedback.get_trace(trace_id)
    root = trace.root_span
    assert root is not None
    retriever = next(s for s in trace.spans if s.name == "retrieve_context")
    return Seeded(store, trace_id, script_trace_id, root.span_id, retriever.span_id)


@pytest.fixture
def seeded(store_location: Path | str) -> Seeded:
    """The tutorial's traces in a store of each kind (``store_location``)."""
    return seed(store_location)


@pytest.fixture
def server(seeded: Seeded) -> Iterator[LiveServer]:
    from otelfeedback.server import create_app

    live = LiveServer(create_app(seeded.store))
    yield live
    live.close()


@pytest.fixture
def empty_server(store_location: Path | str) -> Iterator[LiveServer]:
    from otelfeedback.server import create_app

    live = LiveServer(create_app(store_location))
    yield live
    live.close()
