"""When nothing reads a span's attributes at its start (``configure()`` built the provider:
a sampler that reads none, only our processors), the attributes meant for a sampler are
added right after the start, the cheap way. The spans are the same either way, and the
moment the app adds a span processor of its own, it sees them at the start again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openai import OpenAI
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    DEFAULT_OFF,
    DEFAULT_ON,
    ParentBased,
    ParentBasedTraceIdRatio,
    Sampler,
    TraceIdRatioBased,
)

import otelfeedback
from otelfeedback.setup import _reads_attributes
from otelfeedback.testing import FakeOpenAIServer
from tests.instrumentation.conftest import MESSAGES
from tests.samplers import SeenBySampler


class AtStart(SpanProcessor):
    """An app's processor that reads each span's attributes in ``on_start``."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.seen.append(dict(span.attributes or {}))


class Ratio(TraceIdRatioBased):
    """A subclass may read anything."""


@pytest.mark.parametrize(
    "sampler",
    [
        ALWAYS_ON,
        ALWAYS_OFF,
        DEFAULT_ON,
        DEFAULT_OFF,
        TraceIdRatioBased(0.5),
        ParentBasedTraceIdRatio(0.5),
        ParentBased(TraceIdRatioBased(0.1), local_parent_sampled=ALWAYS_OFF),
    ],
    ids=lambda s: s.get_description()[:40],
)
def test_the_sdks_own_samplers_read_no_attribute(sampler: Sampler) -> None:
    assert _reads_attributes(sampler) is False


@pytest.mark.parametrize(
    "sampler",
    [
        SeenBySampler(),
        ParentBased(SeenBySampler()),
        ParentBased(ALWAYS_ON, local_parent_sampled=SeenBySampler()),
        Ratio(0.5),
        None,
    ],
    ids=["custom", "parent-based custom root", "parent-based custom delegate", "subclass", "none"],
)
def test_any_other_sampler_may_read_them(sampler: Sampler | None) -> None:
    assert _reads_attributes(sampler) is True


def _record(client: OpenAI, server: FakeOpenAIServer) -> None:
    @otelfeedback.trace(name="answer", span_type="CHAIN")
    def answer(question: str) -> str:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
        return "Paris"

    server.reply("Paris is the capital.")
    with otelfeedback.using_session("s-1"), otelfeedback.using_tags({"team": "search"}):
        answer("capital?")
    otelfeedback.flush()


def _attributes(exporter: InMemorySpanExporter) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Each span's name and attributes in order (the fake server numbers its responses)."""
    spans: list[ReadableSpan] = list(exporter.get_finished_spans())
    exporter.clear()

    def same_id(value: Any) -> Any:
        return re.sub(r"chatcmpl-fake-\d+", "chatcmpl-fake", value) if type(value) is str else value

    return [(s.name, [(k, same_id(v)) for k, v in (s.attributes or {}).items()]) for s in spans]


def test_spans_are_the_same_and_a_processor_added_later_sees_the_start(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    exporter = InMemorySpanExporter()
    configuration = otelfeedback.configure(store="", exporters=[exporter])
    otelfeedback.instrument_openai()
    _record(client, server)
    quiet = _attributes(exporter)

    app_processor = AtStart()
    configuration.tracer_provider.add_span_processor(app_processor)  # type: ignore[attr-defined]
    _record(client, server)
    given = _attributes(exporter)

    assert [name for name, _ in quiet] == ["chat gpt-4o-mini", "answer"]
    assert quiet == given  # the same attributes, in the same order
    chat_start, trace_start = app_processor.seen[1], app_processor.seen[0]
    assert trace_start["otelfeedback.span_type"] == "CHAIN"
    assert trace_start["session.id"] == "s-1"
    assert chat_start == {  # like any span of ours, with the session and tags in force
        "session.id": "s-1",
        "gen_ai.conversation.id": "s-1",
        "otelfeedback.trace.tags": '{"team": "search"}',
        "tag.tags": ("team=search",),
        "gen_ai.provider.name": "openai",
        "gen_ai.operation.name": "chat",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "gen_ai.request.model": "gpt-4o-mini",
    }
