"""FakeOpenAIServer with the real openai client: scripted and default replies, errors,
recorded requests, lifecycle."""

from __future__ import annotations

import time

import openai
import pytest
from openai import OpenAI

from otelfeedback.testing import Failure, FakeOpenAIServer, RecordedRequest, Reply, ToolCall


def test_two_lines_give_a_working_chat_endpoint_with_an_echo_by_default() -> None:
    with FakeOpenAIServer() as server, OpenAI(base_url=server.base_url, api_key="x") as client:
        out = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi there"}]
        )
    assert out.choices[0].message.content == "Fake reply to: Hi there"
    assert out.model == "gpt-4o-mini"
    assert out.usage is not None and out.usage.prompt_tokens == 2


def test_scripted_replies_are_used_in_order_then_the_default() -> None:
    with FakeOpenAIServer() as server, OpenAI(base_url=server.base_url, api_key="x") as client:
        server.reply("first")
        server.push(Reply("second", model="gpt-4o-2024-08-06"))
        assert server.pending == 2
        msgs = [{"role": "user", "content": "q"}]
        texts = [client.chat.completions.create(model="m", messages=msgs) for _ in range(3)]  # type: ignore[misc]
        assert [t.choices[0].message.content for t in texts] == [
            "first",
            "second",
            "Fake reply to: q",
        ]
        assert texts[1].model == "gpt-4o-2024-08-06"
        assert [r.path for r in server.requests] == ["/v1/chat/completions"] * 3
        assert server.requests[0].body["messages"] == msgs
        server.reset()
        assert server.requests == [] and server.pending == 0


def test_replies_are_deterministic_across_servers() -> None:
    def transcript() -> list[object]:
        with FakeOpenAIServer() as s, OpenAI(base_url=s.base_url, api_key="x") as c:
            s.reply(tool_calls=[ToolCall("f", {"a": 1})])
            chat = c.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
            emb = c.embeddings.create(model="e", input="hello")
            return [chat.model_dump(), emb.model_dump()]

    assert transcript() == transcript()


def test_default_reply_fits_a_required_tool_call_and_a_json_schema() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
        },
    }
    with FakeOpenAIServer() as server, OpenAI(base_url=server.base_url, api_key="x") as client:
        msgs = [{"role": "user", "content": "q"}]
        out = client.chat.completions.create(
            model="m",
            messages=msgs,  # type: ignore[arg-type]
            tools=[tool],  # type: ignore[list-item]
            tool_choice="required",
        )
        call = out.choices[0].message.tool_calls[0]  # type: ignore[index]
        assert (call.function.name, call.function.arguments) == ("lookup", '{"n": 0}')  # type: ignore[union-attr]
        assert out.choices[0].finish_reason == "tool_calls"


def test_a_default_responder_builds_replies_from_the_request() -> None:
    def responder(request: RecordedRequest) -> Reply | Failure:
        if request.body.get("model") == "broken":
            return Failure(503)
        return Reply(f"model={request.body['model']}")

    with FakeOpenAIServer(default=responder) as server:
        with OpenAI(base_url=server.base_url, api_key="x", max_retries=0) as client:
            out = client.responses.create(model="gpt-4.1", input="x")
            assert out.output_text == "model=gpt-4.1"
            with pytest.raises(openai.InternalServerError):
                client.responses.create(model="broken", input="x")


def test_rate_limit_sends_retry_after_and_the_client_retries() -> None:
    with FakeOpenAIServer() as server:
        server.fail(429, retry_after=0.05, message="slow down")
        with OpenAI(base_url=server.base_url, api_key="x", max_retries=1) as client:
            raw = client.chat.completions.with_raw_response.create(
                model="m", messages=[{"role": "user", "content": "q"}]
            )
        assert raw.retries_taken == 1
        with OpenAI(base_url=server.base_url, api_key="x", max_retries=0) as client:
            server.fail(429, retry_after=1)
            with pytest.raises(openai.RateLimitError, match="fake error 429") as caught:
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "q"}]
                )
        assert caught.value.response.headers["retry-after"] == "1"


def test_slow_replies_time_out_and_stop_does_not_wait_for_them() -> None:
    server = FakeOpenAIServer().start()
    server.reply("late", delay=30)
    with OpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=0.2) as client:
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    started = time.monotonic()
    server.stop()
    server.stop()
    assert time.monotonic() - started < 5


def test_streams_send_usage_only_when_asked_and_error_events_mid_stream() -> None:
    with FakeOpenAIServer() as server, OpenAI(base_url=server.base_url, api_key="x") as client:
        msgs = [{"role": "user", "content": "q"}]
        server.reply("a b c", chunks=["a", " b", " c"])
        chunks = list(
            client.chat.completions.create(
                model="m",
                messages=msgs,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        assert [c.choices[0].delta.content for c in chunks if c.choices] == [
            "",
            "a",
            " b",
            " c",
            None,
        ]
        assert chunks[-1].usage is not None
        no_usage = list(client.chat.completions.create(model="m", messages=msgs, stream=True))  # type: ignore[arg-type]
        assert all(c.usage is None for c in no_usage)
        server.reply("a b c", error_after_chunks=2)
        with pytest.raises(openai.APIError):
            list(client.chat.completions.create(model="m", messages=msgs, stream=True))  # type: ignore[arg-type]


def test_embeddings_float_and_base64_agree() -> None:
    with FakeOpenAIServer() as server, OpenAI(base_url=server.base_url, api_key="x") as client:
        b64 = client.embeddings.create(model="e", input=["x", "y"], dimensions=4)
        floats = client.embeddings.create(
            model="e", input=["x", "y"], dimensions=4, encoding_format="float"
        )
    assert len(b64.data) == 2
    for a, b in zip(b64.data[0].embedding, floats.data[0].embedding):
        assert a == pytest.approx(b, abs=1e-6)


def test_unknown_routes_are_404_and_base_url_needs_a_started_server() -> None:
    server = FakeOpenAIServer()
    with pytest.raises(RuntimeError, match="start"):
        _ = server.base_url
    with server, OpenAI(base_url=server.base_url, api_key="x", max_retries=0) as client:
        with pytest.raises(openai.NotFoundError):
            client.files.list()
