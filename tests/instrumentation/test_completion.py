"""When only our span processors see a span end (``configure()`` built the provider), a
whole OpenAI response's attributes are built by the export worker from the bodies as they
crossed the wire (the span's completion). The spans are the same as when they are built in
the call, and the moment the app adds a span processor of its own, that processor sees every
attribute when the span ends."""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from openai import OpenAI
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otelfeedback
from otelfeedback.export.encodable import encodable_span
from otelfeedback.testing import FakeOpenAIServer, ToolCall
from tests.instrumentation.conftest import API_KEY, MESSAGES, WEATHER_TOOL


class AtEnd(SpanProcessor):
    """An app's processor that reads each span's attributes in ``on_end`` (kept as our
    exporters get them, after the value rule: an integer past 64 bits as its text, a lone
    surrogate as U+FFFD)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.seen.append(dict(encodable_span(span).attributes or {}))


def _chat_with_tools(client: OpenAI, server: FakeOpenAIServer) -> None:
    server.reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"})])
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            *MESSAGES,
            {"role": "user", "content": [{"type": "text", "text": "And the weather?"}]},
        ],  # type: ignore[list-item]
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        temperature=0.2,
        max_tokens=50,
        seed=7,
        stop=["\n"],
    )


def _chat_refusal_with_usage_details(client: OpenAI, server: FakeOpenAIServer) -> None:
    server.reply(refusal="I cannot help with that.", usage={"cached_tokens": 3})
    client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,
        response_format={"type": "json_object"},  # type: ignore[arg-type]
    )


def _chat_raw_after_a_retry(client: OpenAI, server: FakeOpenAIServer) -> None:
    server.fail(429, retry_after=0.01)  # (soon enough to be in a row with the last call)
    server.reply("Paris, après une tentative. \U0001f5fc")
    client.with_options(max_retries=1).chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
    ).parse()


def _responses(client: OpenAI, server: FakeOpenAIServer) -> None:
    server.reply("Bonjour !")
    client.responses.create(model="gpt-4o", instructions="Be brief.", input="Bonjour")


def _completion(client: OpenAI, server: FakeOpenAIServer) -> None:
    server.reply("hi")
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi")


EDGE_BODY = json.dumps(
    {
        "id": "chatcmpl-edge",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "\ud800 lone, \U0001f600, " + "é" * 50},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 2**70, "completion_tokens": 1.5, "total_tokens": -1},
    }
).encode()  # (json.dumps escapes the lone surrogate: the bytes are valid UTF-8)


def _chat_edge_values(client: OpenAI, server: FakeOpenAIServer) -> None:
    server.reply_body(EDGE_BODY)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": ""}])


CALLS: list[Callable[[OpenAI, FakeOpenAIServer], None]] = [
    _chat_with_tools,
    _chat_edge_values,
    _chat_refusal_with_usage_details,
    _chat_raw_after_a_retry,
    _responses,
    _completion,
]


def _recorded(exporter: InMemorySpanExporter) -> list[list[tuple[str, Any]]]:
    """Each call's span attributes, in order, from a fresh fake server (which numbers the
    ids of its answers from 1: each pass gets the same ones)."""
    with FakeOpenAIServer() as server:
        with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0) as client:
            _in_a_row(client, server)
            for call in CALLS:
                call(client, server)
    assert otelfeedback.flush(10)
    spans = exporter.get_finished_spans()[1:]
    exporter.clear()
    return [_listed(s.attributes or {}) for s in spans]


def _in_a_row(client: OpenAI, server: FakeOpenAIServer) -> None:
    """A call, so that the next ones come in a row (a call after a pause builds its
    attributes itself, the same way as with another processor)."""
    server.reply("first")
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]


def _listed(attributes: Any) -> list[tuple[str, Any]]:
    """The attributes in order (each pass has its own fake server: its port is left out)."""
    return [(k, "the port" if k == "server.port" else v) for k, v in attributes.items()]


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"openai_attributes": "full"},
        {"capture_content": False},
        {"max_value_length": 40},
    ],
    ids=["lean", "full", "no content", "values cut"],
)
def test_spans_are_the_same_and_a_processor_added_later_sees_every_attribute_at_the_end(
    settings: dict[str, Any],
) -> None:
    built_later = _compare_both_ways(settings)
    tools = dict(built_later[0])
    assert tools["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert tools["gen_ai.request.temperature"] == 0.2
    if settings.get("capture_content", True):
        name = "llm.output_messages.0.message.tool_calls.0.tool_call.function.name"
        assert tools[name] == "get_weather"
    retried = dict(built_later[3])
    assert retried["http.request.resend_count"] == 1
    edge = dict(built_later[1])
    assert edge["gen_ai.usage.input_tokens"] == str(2**70)  # (the value rule: past 64 bits)
    assert "gen_ai.usage.output_tokens" not in edge  # 1.5 is no token count
    if settings.get("capture_content", True) and "max_value_length" not in settings:
        text = edge["llm.output_messages.0.message.content"]
        assert text.startswith("\ufffd lone, \U0001f600, é")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "12"), ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "16")],
    ids=["count limit", "value length limit"],
)
def test_the_sdks_attribute_limits_apply_the_same_either_way(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    built_later = _compare_both_ways({})
    for attributes in built_later:
        if variable == "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT":
            assert len(attributes) == 12  # the oldest dropped, as set_attributes does
        else:  # the SDK cut every text (the bodies too) to 16 characters
            found = dict(attributes)
            assert len(found["input.value"]) == len(found["output.value"]) == 16


def _compare_both_ways(settings: dict[str, Any]) -> list[list[tuple[str, Any]]]:
    """Record ``CALLS`` with our processors only (attributes built by the export worker),
    then with an app's processor added (built in the call); assert the spans are the same
    and the app's processor saw them whole in ``on_end``."""
    exporter = InMemorySpanExporter()
    configuration = otelfeedback.configure(store="", exporters=[exporter], **settings)
    otelfeedback.instrument_openai()
    built_later = _recorded(exporter)

    app_processor = AtEnd()
    configuration.tracer_provider.add_span_processor(app_processor)  # type: ignore[attr-defined]
    built_in_call = _recorded(exporter)

    assert len(built_later) == len(CALLS)
    assert built_later == built_in_call  # the same attributes, in the same order
    assert [_listed(seen) for seen in app_processor.seen[1:]] == built_in_call
    return built_later


def test_two_exporters_get_the_whole_span(server: FakeOpenAIServer, client: OpenAI) -> None:
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    otelfeedback.configure(store="", exporters=[first, second])
    otelfeedback.instrument_openai()
    server.reply("Paris.")
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert otelfeedback.flush(10)
    (one,), (other,) = first.get_finished_spans(), second.get_finished_spans()
    assert dict(one.attributes or {}) == dict(other.attributes or {})
    assert (one.attributes or {})["llm.output_messages.0.message.content"] == "Paris."


def test_the_response_is_freed_when_the_call_returns_and_recorded_at_export(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    exporter = InMemorySpanExporter()
    otelfeedback.configure(store="", exporters=[exporter], export_delay_ms=600_000)
    otelfeedback.instrument_openai()
    _in_a_row(client, server)
    server.reply("Paris.")
    response = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    gone = weakref.ref(response)
    del response
    assert gone() is None  # nothing of ours keeps the response model alive
    assert exporter.get_finished_spans() == ()  # still queued
    assert otelfeedback.flush(10)
    (_, span) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes["llm.output_messages.0.message.content"] == "Paris."
    assert json.loads(attributes["output.value"])["choices"][0]["message"]["content"] == "Paris."


def test_the_byte_bound_counts_the_bodies_a_queued_call_will_record(
    server: FakeOpenAIServer, client: OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    answer = "word " * 4000  # 20 KB, in output.value and in the output message
    # No export before the flush: the queue only fills.
    config = otelfeedback.configure(
        store="", exporters=[InMemorySpanExporter()], export_delay_ms=600_000
    )
    otelfeedback.instrument_openai()
    _in_a_row(client, server)
    before = config.stats()["InMemorySpanExporter"]["queued_bytes"]
    server.reply(answer)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    one_call = config.stats()["InMemorySpanExporter"]["queued_bytes"] - before
    assert one_call >= 2 * len(answer)

    exporter = InMemorySpanExporter()
    config = otelfeedback.configure(
        store="",
        exporters=[exporter],
        export_delay_ms=600_000,
        export_queue_bytes=one_call + one_call // 2,
    )
    server.reply(answer)
    server.reply(answer)
    with caplog.at_level(logging.WARNING, "otelfeedback"):
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    stats = config.stats()["InMemorySpanExporter"]
    assert (stats["queued"], stats["dropped"]) == (1, 1)
    assert any(
        "export queue of InMemorySpanExporter full" in r.getMessage() for r in caplog.records
    )
    assert otelfeedback.flush(10)
    (span,) = exporter.get_finished_spans()
    assert (span.attributes or {})["llm.output_messages.0.message.content"] == answer


def test_a_redaction_hook_runs_in_the_apps_thread(server: FakeOpenAIServer, client: OpenAI) -> None:
    exporter = InMemorySpanExporter()
    otelfeedback.configure(store="", exporters=[exporter])
    threads: set[str] = set()

    def redact(text: str) -> str:
        threads.add(threading.current_thread().name)
        return text.replace("Paris", "[city]")

    otelfeedback.instrument_openai(redact=redact)
    server.reply("Paris.")
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert otelfeedback.flush(10)
    (span,) = exporter.get_finished_spans()
    assert threads == {threading.current_thread().name}
    assert (span.attributes or {})["llm.output_messages.0.message.content"] == "[city]."


def test_a_response_that_cannot_be_read_keeps_the_rest_of_the_span(
    server: FakeOpenAIServer,
    client: OpenAI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    exporter = InMemorySpanExporter()
    otelfeedback.configure(store="", exporters=[exporter])
    otelfeedback.instrument_openai()
    body = b'{"id": "chatcmpl-odd", "object": "chat.completion", "model": "m", "choices": 5}'
    server.reply_body(body)
    with caplog.at_level(logging.WARNING, "otelfeedback"):
        out = client.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
        assert out.choices == 5  # the app gets what the SDK made of it
        assert otelfeedback.flush(10)
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes["output.value"] == body.decode()  # what was received
    assert attributes["llm.input_messages.1.message.content"] == MESSAGES[1]["content"]
    assert "gen_ai.response.id" not in attributes  # the response's part failed as a whole
    assert any("recording an OpenAI response" in r.getMessage() for r in caplog.records)
