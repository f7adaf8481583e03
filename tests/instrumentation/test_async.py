"""AsyncOpenAI: the same spans as the sync client, from the same code paths."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, AsyncStream

import otelfeedback
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer, ToolCall
from tests.instrumentation.conftest import API_KEY, MESSAGES, WEATHER_TOOL, attrs, only


def run(server: FakeOpenAIServer, body: Callable[[AsyncOpenAI], Awaitable[Any]], **kw: Any) -> Any:
    async def main() -> Any:
        options = {"max_retries": 0, **kw}
        async with AsyncOpenAI(base_url=server.base_url, api_key=API_KEY, **options) as client:
            return await body(client)

    return asyncio.run(main())


def test_async_chat_completion_is_a_child_of_an_async_trace_span(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply("Paris.")

    @otelfeedback.trace
    async def agent(client: AsyncOpenAI) -> str:
        out = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        return out.choices[0].message.content or ""

    assert run(server, agent) == "Paris."
    llm = next(s for s in spans.get_finished_spans() if s.name == "chat gpt-4o")
    assert llm.parent is not None
    a = attrs(llm)
    assert a["llm.output_messages.0.message.content"] == "Paris."
    assert a["gen_ai.usage.output_tokens"] == 1


def test_async_stream_is_the_sdk_stream_and_is_recorded_on_exhaustion(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="c1")])

    async def body(client: AsyncOpenAI) -> list[Any]:
        stream = await client.chat.completions.create(
            model="gpt-4o",
            messages=MESSAGES,
            tools=[WEATHER_TOOL],
            stream=True,
            stream_options={"include_usage": True},
        )
        assert isinstance(stream, AsyncStream)
        return [chunk async for chunk in stream]

    chunks = run(server, body)
    assert chunks[-1].usage is not None
    a = attrs(only(spans))
    args = a["llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments"]
    assert json.loads(args) == {"city": "Paris"}
    assert a["gen_ai.usage.input_tokens"] > 0
    assert a["otelfeedback.stream.end"] == "exhausted"
    assert a["gen_ai.response.time_to_first_chunk"] > 0


def test_async_stream_closed_early_by_async_with(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply("one two three")

    async def body(client: AsyncOpenAI) -> None:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async with stream:
            await stream.__anext__()
            await stream.__anext__()

    run(server, body)
    a = attrs(only(spans))
    assert a["otelfeedback.stream.end"] == "closed"
    assert a["llm.output_messages.0.message.content"] == "one "


def test_async_error_mid_stream(server: FakeOpenAIServer, spans: CapturedSpans) -> None:
    otelfeedback.instrument_openai()
    server.reply("one two three", error_after_chunks=2)

    async def body(client: AsyncOpenAI) -> None:
        stream = await client.responses.create(model="m", input="x", stream=True)
        async for _ in stream:
            pass

    with pytest.raises(openai.APIError):
        run(server, body)
    span = only(spans)
    assert span.status.status_code.name == "ERROR"
    assert attrs(span)["otelfeedback.stream.end"] == "error"


def test_async_retries_and_final_error(server: FakeOpenAIServer, spans: CapturedSpans) -> None:
    otelfeedback.instrument_openai()
    server.fail(429, retry_after=0.01)
    server.fail(500)

    async def body(client: AsyncOpenAI) -> None:
        await client.embeddings.create(model="e", input="x")

    with pytest.raises(openai.InternalServerError):
        run(server, body, max_retries=1)
    span = only(spans)
    assert [e.name for e in span.events] == ["otelfeedback.retry", "exception"]
    assert attrs(span)["error.type"] == "InternalServerError"


def test_async_raw_and_streaming_responses(server: FakeOpenAIServer, spans: CapturedSpans) -> None:
    otelfeedback.instrument_openai()

    async def body(client: AsyncOpenAI) -> str:
        raw = await client.responses.with_raw_response.create(model="m", input="raw")
        async with client.chat.completions.with_streaming_response.create(
            model="m", messages=MESSAGES, stream=True
        ) as resp:
            stream = await resp.parse()
            texts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        return raw.parse().output_text + "|" + "".join(texts)

    result = run(server, body)
    first, second = (attrs(s) for s in spans.get_finished_spans())
    assert result == (
        first["llm.output_messages.0.message.content"]
        + "|"
        + second["llm.output_messages.0.message.content"]
    )


def test_concurrent_async_calls_get_their_own_spans(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()

    async def body(client: AsyncOpenAI) -> list[str]:
        async def one(i: int) -> str:
            out = await client.chat.completions.create(
                model=f"m{i}", messages=[{"role": "user", "content": f"q{i}"}]
            )
            return out.choices[0].message.content or ""

        return list(await asyncio.gather(*(one(i) for i in range(5))))

    answers = run(server, body)
    finished = spans.get_finished_spans()
    assert len(finished) == 5
    for span in finished:
        a = attrs(span)
        i = a["gen_ai.request.model"][1:]
        assert a["llm.input_messages.0.message.content"] == f"q{i}"
        assert a["llm.output_messages.0.message.content"] == f"Fake reply to: q{i}"
        assert a["llm.output_messages.0.message.content"] in answers
