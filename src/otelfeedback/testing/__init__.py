"""Helpers for testing apps instrumented with otelfeedback.

::

    from otelfeedback.testing import capture_spans

    def test_answer_is_traced():
        with capture_spans() as spans:
            answer("hi")
        assert [s.name for s in spans.get_finished_spans()] == ["answer"]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

from otelfeedback import setup


class SequentialIdGenerator(IdGenerator):
    """Deterministic ids: trace ids 1, 2, 3... and span ids 1, 2, 3... (as hex)."""

    def __init__(self) -> None:
        self._trace = 0
        self._span = 0

    def generate_trace_id(self) -> int:
        self._trace += 1
        return self._trace

    def generate_span_id(self) -> int:
        self._span += 1
        return self._span


class CapturedSpans(InMemorySpanExporter):
    """An in-memory exporter whose ``get_finished_spans()`` flushes first."""

    def get_finished_spans(self) -> tuple[Any, ...]:
        setup.flush(10)
        return super().get_finished_spans()

    def export(self, spans: Any) -> SpanExportResult:
        return super().export(spans)


@contextmanager
def capture_spans(
    *, deterministic_ids: bool = False, store: str = "", **configure_args: Any
) -> Iterator[CapturedSpans]:
    """Configure otelfeedback to keep finished spans in memory for the block, then reset.

    Args:
        deterministic_ids: number trace and span ids 1, 2, 3...
        store: a file store directory to write as well (default: none).
        configure_args: more ``otelfeedback.configure()`` arguments.
    """
    exporter = CapturedSpans()
    extra: list[SpanExporter] = list(configure_args.pop("exporters", ()))
    setup.configure(
        store=store,
        exporters=[exporter, *extra],
        id_generator=SequentialIdGenerator() if deterministic_ids else None,
        **configure_args,
    )
    try:
        yield exporter
    finally:
        setup.reset()


if TYPE_CHECKING:  # loaded lazily at run time, below
    from otelfeedback.testing.fake_openai import (
        Failure,
        FakeOpenAIServer,
        JudgeRequest,
        RecordedRequest,
        Reply,
        ToolCall,
        Verdict,
    )

_FAKE_OPENAI = (
    "FakeOpenAIServer",
    "Failure",
    "JudgeRequest",
    "RecordedRequest",
    "Reply",
    "ToolCall",
    "Verdict",
)


def __getattr__(name: str) -> Any:
    # The fake OpenAI server loads on first use (http.server is not free to import).
    if name in _FAKE_OPENAI:
        from otelfeedback.testing import fake_openai

        return getattr(fake_openai, name)
    raise AttributeError(f"module 'otelfeedback.testing' has no attribute {name!r}")


__all__ = [
    "CapturedSpans",
    "FakeOpenAIServer",
    "Failure",
    "InMemorySpanExporter",
    "JudgeRequest",
    "RecordedRequest",
    "Reply",
    "SequentialIdGenerator",
    "ToolCall",
    "Verdict",
    "capture_spans",
]
