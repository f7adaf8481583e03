"""``input.value`` / ``output.value`` are the bodies as they crossed the wire: the bytes the
server received and sent, decoded; our own JSON of the same data only when those bytes are
not at hand or are not JSON text."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

import otelfeedback
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer, capture_spans
from tests.instrumentation.conftest import API_KEY, MESSAGES, attrs, only

ANSWER = 'Zoë\'s ☃ "answer"\n'
BODY = {  # a chat completion in the server's own key order, with what pydantic would drop
    "object": "chat.completion",
    "id": "chatcmpl-wire-1",
    "created": 1700000000,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": ANSWER},
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    "x_vendor_field": [1.0, 1e400, -0.0],
}
PRETTY = json.dumps(BODY, indent=3, ensure_ascii=False).replace("Infinity", "1e400")


def _chat(client: OpenAI, **options: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=MESSAGES, **options)  # type: ignore[arg-type]


def test_output_value_is_the_body_the_server_sent_byte_for_byte(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply_body(PRETTY.encode("utf-8"), content_type="application/json; charset=utf-8")
    out = _chat(client)
    assert out.choices[0].message.content == ANSWER
    a = attrs(only(spans))
    assert a["output.value"] == PRETTY  # indentation, key order, 1e400 and all
    assert a["output.mime_type"] == "application/json"
    assert a["llm.output_messages.0.message.content"] == ANSWER  # read from the model
    assert a["gen_ai.usage.output_tokens"] == 3


def test_input_value_is_the_body_the_server_received_byte_for_byte(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    messages = [*MESSAGES, {"role": "user", "content": "Und auf Deutsch? \u2603 \U0001f600"}]
    client.chat.completions.create(
        model="gpt-4o",
        messages=messages,  # type: ignore[arg-type]
        temperature=0.5,
        extra_body={"vendor_option": {"deep": [1, 2.5, None]}},
    )
    a = attrs(only(spans))
    sent = server.requests[0].raw
    assert a["input.value"].encode("utf-8") == sent
    assert json.loads(sent)["vendor_option"] == {"deep": [1, 2.5, None]}
    assert a["input.mime_type"] == "application/json"


def test_every_endpoint_records_the_bytes_sent_and_embeddings_still_no_vectors(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    client.responses.create(model="gpt-4o", input="Bonjour")
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi")
    client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    responses, completion, embeddings = (attrs(s) for s in spans.get_finished_spans())
    for a, request in zip((responses, completion, embeddings), server.requests, strict=True):
        assert a["input.value"].encode("utf-8") == request.raw
    for a in (responses, completion):
        assert json.loads(a["output.value"])["id"]  # the body as sent
    summary = json.loads(embeddings["output.value"])  # a summary, not the body
    assert summary["dimensions"] == embeddings["gen_ai.embeddings.dimension.count"]
    assert 'embedding"' not in embeddings["output.value"]  # no vector field


def test_async_clients_record_the_wire_bodies_too(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply_body(PRETTY.encode("utf-8"))

    async def main() -> Any:
        async with AsyncOpenAI(base_url=server.base_url, api_key=API_KEY) as client:
            return await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]

    assert asyncio.run(main()).choices[0].message.content == ANSWER
    a = attrs(only(spans))
    assert a["output.value"] == PRETTY
    assert a["input.value"].encode("utf-8") == server.requests[0].raw


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [("utf-16-le", "application/json"), ("utf-8-sig", "application/vnd.api+json")],
)
def test_a_json_body_in_another_unicode_encoding_is_recorded_as_its_text(
    server: FakeOpenAIServer,
    client: OpenAI,
    spans: CapturedSpans,
    encoding: str,
    content_type: str,
) -> None:
    otelfeedback.instrument_openai()
    server.reply_body(PRETTY.encode(encoding), content_type=content_type)
    assert _chat(client).choices[0].message.content == ANSWER
    assert attrs(only(spans))["output.value"] == PRETTY


def test_a_body_not_labelled_json_falls_back_to_the_json_of_the_response(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply_body(PRETTY.encode("utf-8"), content_type="text/plain")
    out = _chat(client)  # the SDK parses it all the same
    a = attrs(only(spans))
    assert a["output.value"] != PRETTY
    assert json.loads(a["output.value"]) == json.loads(out.model_dump_json(exclude_unset=True))


def test_a_body_that_is_not_strict_utf8_falls_back_and_records_valid_text(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    # A lone surrogate encoded as UTF-8: Python's JSON parser lets it through, an
    # attribute (and the export's UTF-8) cannot hold it.
    data = PRETTY.replace("☃", "\ud800").encode("utf-8", "surrogatepass")
    otelfeedback.instrument_openai()
    server.reply_body(data)
    out = _chat(client)
    assert "\ud800" in out.choices[0].message.content
    recorded = attrs(only(spans))["output.value"]
    recorded.encode("utf-8")  # valid text
    assert json.loads(recorded)["id"] == "chatcmpl-wire-1"


def test_redaction_and_truncation_apply_to_both_bodies(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    otelfeedback.instrument_openai(redact=lambda text: text.replace("Zoë", "[NAME]"))
    messages = [{"role": "user", "content": "Is Zoë here? " + "x" * 300}]
    with capture_spans(max_value_length=200) as spans:
        server.reply_body(PRETTY.encode("utf-8"))
        client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
        server.reply_body(PRETTY.encode("utf-8"))
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
        long_input, short_input = (attrs(s) for s in spans.get_finished_spans())
    assert "Zoë" not in json.dumps(long_input) + json.dumps(short_input)
    sent = server.requests[0].raw.decode("utf-8").replace("Zoë", "[NAME]")
    kept = long_input["input.value"].split("…[truncated ")[0]
    assert sent.startswith(kept) and "[NAME]" in kept  # the bytes sent, redacted, then cut
    assert long_input["input.mime_type"] == long_input["output.mime_type"] == "text/plain"
    assert sorted(long_input["otelfeedback.truncated"]) == ["input.value", "output.value"]
    assert len(long_input["input.value"]) < 250
    assert short_input["otelfeedback.truncated"] == ("output.value",)
    assert short_input["input.value"].encode("utf-8") == server.requests[1].raw
    assert short_input["output.value"].startswith('{\n   "object": "chat.completion"')


def test_capture_off_records_neither_body(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai(capture_content=False)
    server.reply_body(PRETTY.encode("utf-8"))
    _chat(client)
    a = attrs(only(spans))
    assert not {"input.value", "output.value", "input.mime_type", "output.mime_type"} & set(a)
    assert "Zo" not in json.dumps(a)


def test_a_status_error_after_retries_still_records_the_request(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.fail(503, retry_after=0)
    server.fail(500)
    with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=1) as client:
        with pytest.raises(openai.InternalServerError):
            _chat(client, temperature=0.25)
    a = attrs(only(spans))
    assert a["input.value"].encode("utf-8") == server.requests[-1].raw  # the bytes sent
    assert "output.value" not in a


def test_a_refused_connection_still_records_the_request(spans: CapturedSpans) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    otelfeedback.instrument_openai()
    with OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, max_retries=0) as c:
        with pytest.raises(openai.APIConnectionError):
            _chat(c)
    recorded = json.loads(attrs(only(spans))["input.value"])
    assert recorded == {"model": "gpt-4o", "messages": MESSAGES}


def test_a_malformed_body_is_raised_and_the_request_sent_is_recorded(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply_malformed()
    with pytest.raises(json.JSONDecodeError):
        _chat(client)
    a = attrs(only(spans))
    assert a["input.value"].encode("utf-8") == server.requests[0].raw
    assert "output.value" not in a


def test_streams_record_the_request_sent_and_the_response_rebuilt(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply("one two three")
    stream = _chat(client, stream=True, stream_options={"include_usage": True})
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == (
        "one two three"
    )
    a = attrs(only(spans))
    assert a["input.value"].encode("utf-8") == server.requests[0].raw
    rebuilt = json.loads(a["output.value"])
    assert rebuilt["choices"][0]["message"]["content"] == "one two three"


def test_raw_responses_record_the_body_read(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply_body(PRETTY.encode("utf-8"))
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    server.reply_body(PRETTY.encode("utf-8"))
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
    ) as streaming:
        assert streaming.parse().choices[0].message.content == ANSWER
    assert raw.parse().choices[0].message.content == ANSWER
    for span, request in zip(spans.get_finished_spans(), server.requests, strict=True):
        a = attrs(span)
        assert a["output.value"] == PRETTY
        assert a["input.value"].encode("utf-8") == request.raw


class _Message:
    """An HTTP message of another library: headers in a plain mapping, maybe not read."""

    def __init__(self, content: bytes | None, content_type: str) -> None:
        self._content = content
        self.headers = {"content-type": content_type}

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise RuntimeError("not read")
        return self._content


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (_Message(b'{"a": "\xc3\xa9"}', "application/json"), '{"a": "é"}'),
        (_Message(b' ["x"]', "Application/JSON ; charset=utf-8"), ' ["x"]'),
        (_Message(None, "application/json"), None),  # a stream, not read
        (_Message(b"", "application/json"), None),
        (_Message(b'{"a": 1}', "text/plain"), None),
        (_Message(b'{"a": "\xff"}', "application/json"), None),
        (None, None),  # no response noted
    ],
)
def test_body_text_of_any_message_or_none(message: Any, text: str | None) -> None:
    from otelfeedback.instrumentation.openai.wire import body_text

    assert body_text(message) == text


def test_a_hook_failing_on_one_body_leaves_out_that_body_and_its_step_only(
    server: FakeOpenAIServer,
    client: OpenAI,
    spans: CapturedSpans,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")

    def redact(text: str) -> str:
        if '"messages"' in text:  # the request body only
            raise RuntimeError("cannot redact this")
        return text.replace("Zoë", "[NAME]")

    otelfeedback.instrument_openai(redact=redact)
    server.reply_body(PRETTY.encode("utf-8"))
    assert _chat(client).choices[0].message.content == ANSWER
    a = attrs(only(spans))
    assert "input.value" not in a and "input.mime_type" not in a
    assert a["output.value"] == PRETTY.replace("Zoë", "[NAME]")
    assert a["llm.input_messages.1.message.content"] == MESSAGES[1]["content"]
