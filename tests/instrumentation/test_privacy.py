"""Content capture can be switched off three ways; a redaction hook sees every recorded
text; API keys and authorization headers are never recorded."""

from __future__ import annotations

import json
import re

import pytest
from openai import OpenAI

import otelfeedback
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer, ToolCall, capture_spans
from tests.instrumentation.conftest import API_KEY, MESSAGES, WEATHER_TOOL, attrs, only

CONTENT_KEYS = re.compile(r"(^input\.value|^output\.value|message\.content|arguments|prompts)")


def _assert_no_content(a: dict[str, object]) -> None:
    assert [k for k in a if CONTENT_KEYS.search(k)] == []
    assert "capital of France" not in json.dumps(a)
    # structure, timing and tokens stay
    assert a["gen_ai.request.model"] == "gpt-4o"
    assert a["gen_ai.usage.input_tokens"] > 0
    assert a["gen_ai.response.finish_reasons"] == ("tool_calls",)


def _tool_call(server: FakeOpenAIServer, client: OpenAI) -> None:
    server.reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"})])
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=[WEATHER_TOOL])


def test_configure_capture_content_false_keeps_only_structure(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    otelfeedback.instrument_openai()
    with capture_spans(capture_content=False) as spans:
        _tool_call(server, client)
        _assert_no_content(attrs(only(spans)))


def test_the_otel_genai_variable_turns_capture_off(
    server: FakeOpenAIServer, client: OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "false")
    otelfeedback.instrument_openai()
    with capture_spans() as spans:
        _tool_call(server, client)
        _assert_no_content(attrs(only(spans)))


def test_instrument_openai_capture_content_false_overrides_the_configuration(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai(capture_content=False)
    _tool_call(server, client)
    _assert_no_content(attrs(only(spans)))


def test_streams_respect_capture_content_false(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai(capture_content=False)
    server.reply("the capital of France is Paris")
    list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    a = attrs(only(spans))
    assert [k for k in a if CONTENT_KEYS.search(k)] == []
    assert "Paris" not in json.dumps(a)


def test_the_redaction_hook_sees_every_recorded_text(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    def redact(text: str) -> str:
        return text.replace("France", "[COUNTRY]").replace("Paris", "[CITY]")

    otelfeedback.instrument_openai(redact=redact)
    _tool_call(server, client)
    server.reply("Paris is in France")
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    first, second = (attrs(s) for s in spans.get_finished_spans())
    for a in (first, second):
        dumped = json.dumps(a)
        assert "France" not in dumped
        assert "Paris" not in dumped
        assert "[COUNTRY]" in a["input.value"]
    args = first["llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments"]
    assert json.loads(args) == {"city": "[CITY]"}
    assert second["llm.output_messages.0.message.content"] == "[CITY] is in [COUNTRY]"
    assert "[CITY] is in [COUNTRY]" in second["output.value"]


def test_api_keys_and_authorization_headers_are_never_recorded(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, extra_headers={"Authorization": f"Bearer {API_KEY}"}
    )
    list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    client.embeddings.create(model="e", input="x")
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    for span in spans.get_finished_spans():
        recorded = json.dumps(attrs(span)) + json.dumps([dict(e.attributes) for e in span.events])
        assert "SECRET" not in recorded
        assert "authorization" not in recorded.lower()


def test_long_values_are_cut_to_the_configured_size(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    otelfeedback.instrument_openai()
    with capture_spans(max_value_length=100) as spans:
        server.reply("x" * 500)
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        a = attrs(only(spans))
    assert len(a["llm.output_messages.0.message.content"]) < 150
    assert a["output.mime_type"] == "text/plain"
    assert "output.value" in a["otelfeedback.truncated"]
