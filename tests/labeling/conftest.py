"""Fixtures: the quickstart's store (steps 1-2, ``tests/server/conftest.py``) with the two
schemas of step 5, and helpers to run more traces."""

from __future__ import annotations

from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.labeling import InputCategorical, InputText, create_label_schema
from tests.server.conftest import Seeded, my_chatbot, seed

ACCURACY_OPTIONS = ["Accurate", "Partially Accurate", "Inaccurate"]


def step5_schemas() -> None:
    create_label_schema(
        name="response_accuracy",
        type="feedback",
        title="Is the response factually accurate?",
        input=InputCategorical(options=ACCURACY_OPTIONS),
        overwrite=True,
    )
    create_label_schema(
        name="expected_response",
        type="expectation",
        title="What would be the ideal response?",
        input=InputText(),
        overwrite=True,
    )


def more_traces(count: int) -> list[str]:
    """Run the chatbot ``count`` more times; the new trace ids, oldest first."""
    ids = []
    for n in range(count):
        my_chatbot(f"Question {n}?")
        trace_id = otelfeedback.get_last_active_trace_id()
        assert trace_id is not None
        ids.append(trace_id)
    return ids


@pytest.fixture
def seeded(store_location: Path | str) -> Seeded:
    """Steps 1-2 on a configured store of each kind, and the schemas of step 5."""
    result = seed(store_location)
    step5_schemas()
    return result
