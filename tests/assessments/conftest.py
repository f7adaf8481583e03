from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import otelfeedback


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    otelfeedback.configure(store=tmp_path / "store")
    return tmp_path / "store"


@pytest.fixture
def traced_call(store_dir: Path) -> Callable[[], str]:
    """Run a small traced app (root CHAIN + RETRIEVER child); return the trace id."""

    def run() -> str:
        @otelfeedback.trace
        def my_chatbot(question: str) -> str:
            with otelfeedback.start_span("retrieve", span_type="RETRIEVER") as span:
                span.set_outputs(["MLflow docs"])
            return "MLflow is a platform for ML."

        my_chatbot("What is MLflow?")
        trace_id = otelfeedback.get_last_active_trace_id()
        assert trace_id is not None
        return trace_id

    return run
