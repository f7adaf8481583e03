"""Streams: the caller gets the same Stream and chunks; the span stays open while iterating
and ends on exhaustion, close(), a with block, an error, or collection."""

from __future__ import annotations

import gc
import json

import pytest
from openai import APIError, OpenAI, Stream

import otelfeedback
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer, ToolCall
from tests.instrumentation.conftest import MESSAGES, WEATHER_TOOL, attrs, only

WORDS = "one two three four five"


def _chunks(client: OpenAI, **kwargs: object) -> list[dict[str, object]]:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        **kwargs,  # type: ignore[call-overload]
    )
    return [chunk.model_dump() for chunk in stream]


def test_caller_sees_exactly_the_chunks_it_would_see_uninstrumented(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    server.reply(WORDS)
    plain = _chunks(client, stream_options={"include_usage": True})
    otelfeedback.instrument_openai()
    server.reply(WORDS)
    traced = _chunks(client, stream_options={"include_usage": True})
    for chunk in plain + traced:
        chunk.pop("id")
    assert traced == plain
    assert len(spans.get_finished_spans()) == 1


def test_exhausted_stream_ends_the_span_with_the_whole_text_usage_and_time_to_first_chunk(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(WORDS, chunk_delay=0.01)
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert isinstance(stream, Stream)
    first = next(stream)
    assert spans.get_finished_spans() == ()  # still open while the caller iterates
    rest = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in [first, *rest] if c.choices) == WORDS
    a = attrs(only(spans))
    assert a["otelfeedback.stream.end"] == "exhausted"
    assert a["gen_ai.request.stream"] is True
    assert a["llm.output_messages.0.message.content"] == WORDS
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.usage.output_tokens"] == 5
    assert 0 < a["gen_ai.response.time_to_first_chunk"] < 5
    assert json.loads(a["output.value"])["choices"][0]["message"]["content"] == WORDS


def test_usage_is_absent_when_the_stream_does_not_carry_it(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    _chunks(client)
    a = attrs(only(spans))
    assert "gen_ai.usage.input_tokens" not in a
    assert a["llm.output_messages.0.message.content"].startswith("Fake reply to:")


def test_tool_call_argument_fragments_are_joined(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(
        tool_calls=[
            ToolCall("get_weather", {"city": "Paris"}, id="call_a"),
            ToolCall("get_weather", {"city": "Rome"}, id="call_b"),
        ]
    )
    _chunks(client, tools=[WEATHER_TOOL])
    a = attrs(only(spans))
    base = "llm.output_messages.0.message.tool_calls."
    assert a[base + "0.tool_call.id"] == "call_a"
    assert json.loads(a[base + "0.tool_call.function.arguments"]) == {"city": "Paris"}
    assert json.loads(a[base + "1.tool_call.function.arguments"]) == {"city": "Rome"}
    assert a["gen_ai.response.finish_reasons"] == ("tool_calls",)


def test_close_before_the_end_ends_the_span_with_what_was_received(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(WORDS)
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    next(stream), next(stream)  # role chunk, "one "
    stream.close()
    a = attrs(only(spans))
    assert a["otelfeedback.stream.end"] == "closed"
    assert a["llm.output_messages.0.message.content"] == "one "


def test_leaving_a_with_block_ends_the_span(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        next(stream)
    assert attrs(only(spans))["otelfeedback.stream.end"] == "closed"


def test_an_abandoned_stream_ends_its_span_when_collected(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    next(stream)
    stream.response.close()  # release the connection as the SDK's own finalizer would
    del stream
    gc.collect()
    assert attrs(only(spans))["otelfeedback.stream.end"] == "abandoned"


def test_an_error_mid_stream_reaches_the_caller_and_marks_the_span(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(WORDS, error_after_chunks=3)
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(APIError, match="middle of the stream") as caught:
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 3
    span = only(spans)
    a = attrs(span)
    assert span.status.status_code.name == "ERROR"
    assert a["error.type"] == "APIError"
    assert a["otelfeedback.stream.end"] == "error"
    assert a["llm.output_messages.0.message.content"] == "one two "
    assert span.events[-1].attributes["exception.message"] == str(caught.value)


def test_responses_stream_is_recorded_from_its_final_event(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(WORDS)
    events = list(client.responses.create(model="gpt-4.1", input="count", stream=True))
    assert events[-1].type == "response.completed"
    a = attrs(only(spans))
    assert a["llm.output_messages.0.message.content"] == WORDS
    assert a["gen_ai.usage.input_tokens"] == 1
    assert a["otelfeedback.stream.end"] == "exhausted"


def test_responses_stream_helper_is_traced(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(WORDS)
    with client.responses.stream(model="gpt-4.1", input="count") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert final.output_text == WORDS
    assert attrs(only(spans))["llm.output_messages.0.message.content"] == WORDS


def test_legacy_completion_stream_is_joined(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(WORDS)
    text = "".join(
        c.choices[0].text
        for c in client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x", stream=True)
        if c.choices
    )
    assert text == WORDS
    a = attrs(only(spans))
    assert a["llm.output_messages.0.message.content"] == WORDS
    assert a["gen_ai.response.finish_reasons"] == ("stop",)


def test_streamed_raw_responses_are_traced(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(WORDS)
    raw = client.chat.completions.with_raw_response.create(
        model="m", messages=MESSAGES, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse()) == WORDS
    server.reply(WORDS)
    with client.chat.completions.with_streaming_response.create(
        model="m", messages=MESSAGES, stream=True
    ) as resp:
        stream = resp.parse()
        next(stream), next(stream)
    first, second = (attrs(s) for s in spans.get_finished_spans())
    assert first["llm.output_messages.0.message.content"] == WORDS
    assert first["otelfeedback.stream.end"] == "exhausted"
    assert second["llm.output_messages.0.message.content"] == "one "
    assert second["otelfeedback.stream.end"] == "closed"
