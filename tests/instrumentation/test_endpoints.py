"""Each covered call makes one CLIENT span with GenAI and OpenInference attributes: chat
(with tools and structured outputs), Responses, legacy completions, embeddings, Azure."""

from __future__ import annotations

import json
from typing import Any

from openai import AzureOpenAI, OpenAI
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

import otelfeedback
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer, ToolCall
from tests.instrumentation.conftest import MESSAGES, WEATHER_TOOL, attrs, only


def test_chat_completion_span_is_a_child_of_the_current_trace_span_with_the_full_attribute_set(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai(attributes="full")
    server.reply("Paris.", usage={"prompt_tokens": 12, "completion_tokens": 2, "cached_tokens": 4})

    @otelfeedback.trace(span_type="AGENT")
    def agent() -> str:
        response = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, temperature=0.2, max_tokens=50, seed=7
        )
        return response.choices[0].message.content or ""

    assert agent() == "Paris."
    finished = {s.name: s for s in spans.get_finished_spans()}
    llm = finished["chat gpt-4o-mini"]
    (parent,) = (s for name, s in finished.items() if name.endswith("agent"))
    assert llm.parent is not None and llm.parent.span_id == parent.context.span_id
    assert llm.context.trace_id == parent.context.trace_id
    assert llm.kind == SpanKind.CLIENT
    assert llm.status.status_code == StatusCode.UNSET
    a = attrs(llm)
    assert a["otelfeedback.span_type"] == "CHAT_MODEL"
    assert a["openinference.span.kind"] == "LLM"
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o-mini"
    assert a["gen_ai.request.temperature"] == 0.2
    assert a["gen_ai.request.max_tokens"] == 50
    assert a["gen_ai.request.seed"] == 7
    assert a["gen_ai.request.stream"] is False
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == server.port
    assert a["gen_ai.response.id"].startswith("chatcmpl-fake-")
    assert a["gen_ai.response.model"] == "gpt-4o-mini"
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.usage.input_tokens"] == 12
    assert a["gen_ai.usage.output_tokens"] == 2
    assert a["gen_ai.usage.cache_read.input_tokens"] == 4
    assert a["llm.token_count.prompt"] == 12
    assert a["llm.token_count.completion"] == 2
    assert a["llm.token_count.total"] == 14
    assert a["llm.model_name"] == "gpt-4o-mini"
    assert a["llm.input_messages.0.message.role"] == "system"
    assert a["llm.input_messages.1.message.content"] == "What is the capital of France?"
    assert a["llm.output_messages.0.message.role"] == "assistant"
    assert a["llm.output_messages.0.message.content"] == "Paris."
    params = json.loads(a["llm.invocation_parameters"])
    assert params == {"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 50, "seed": 7}
    assert json.loads(a["input.value"])["messages"] == MESSAGES
    assert a["input.mime_type"] == "application/json"
    output = json.loads(a["output.value"])
    assert output["choices"][0]["message"]["content"] == "Paris."
    assert a["output.mime_type"] == "application/json"


def test_tool_definitions_and_tool_calls_are_recorded_both_ways(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="call_1")])
    first = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, tools=[WEATHER_TOOL], tool_choice="auto"
    )
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    history = [
        *MESSAGES,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21}'},
    ]
    client.chat.completions.create(model="gpt-4o", messages=history, tools=[WEATHER_TOOL])
    a1, a2 = (attrs(s) for s in spans.get_finished_spans())
    assert json.loads(a1["llm.tools.0.tool.json_schema"]) == WEATHER_TOOL
    assert a1["gen_ai.response.finish_reasons"] == ("tool_calls",)
    out = "llm.output_messages.0.message.tool_calls.0.tool_call."
    assert a1[out + "id"] == "call_1"
    assert a1[out + "function.name"] == "get_weather"
    assert json.loads(a1[out + "function.arguments"]) == {"city": "Paris"}
    assert "llm.output_messages.0.message.content" not in a1
    inp = "llm.input_messages.2.message.tool_calls.0.tool_call."
    assert a2[inp + "function.name"] == "get_weather"
    assert a2["llm.input_messages.3.message.role"] == "tool"
    assert a2["llm.input_messages.3.message.tool_call_id"] == "call_1"


class Capital(BaseModel):
    city: str
    country: str


def test_structured_output_parse_returns_the_parsed_model_and_records_json_output_type(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply('{"city": "Paris", "country": "France"}')
    parsed = client.chat.completions.parse(
        model="gpt-4o", messages=MESSAGES, response_format=Capital
    )
    assert parsed.choices[0].message.parsed == Capital(city="Paris", country="France")
    a = attrs(only(spans))
    assert a["gen_ai.output.type"] == "json"
    # output.value is the body the server sent: the answer is the message's JSON content
    # (the SDK's ``parsed`` field is the SDK's, not the server's).
    message = json.loads(a["output.value"])["choices"][0]["message"]
    assert json.loads(message["content"]) == {"city": "Paris", "country": "France"}
    assert "parsed" not in message


def test_multimodal_message_parts_are_flattened(client: OpenAI, spans: CapturedSpans) -> None:
    otelfeedback.instrument_openai()
    client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            }
        ],
    )
    a = attrs(only(spans))
    base = "llm.input_messages.0.message.contents."
    assert a[base + "0.message_content.type"] == "text"
    assert a[base + "0.message_content.text"] == "What is in this picture?"
    assert a[base + "1.message_content.type"] == "image"
    assert a[base + "1.message_content.image.image.url"] == "https://example.com/a.png"


def test_responses_api_records_instructions_input_output_and_usage(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply("Bonjour!", usage={"reasoning_tokens": 3})
    response = client.responses.create(
        model="gpt-4.1", instructions="Answer in French.", input="Say hello", max_output_tokens=30
    )
    assert response.output_text == "Bonjour!"
    span = only(spans)
    assert span.name == "chat gpt-4.1"
    a = attrs(span)
    assert a["otelfeedback.span_type"] == "CHAT_MODEL"
    assert a["gen_ai.request.max_tokens"] == 30
    assert a["llm.input_messages.0.message.role"] == "system"
    assert a["llm.input_messages.0.message.content"] == "Answer in French."
    assert a["llm.input_messages.1.message.content"] == "Say hello"
    assert a["llm.output_messages.0.message.content"] == "Bonjour!"
    assert a["gen_ai.response.id"].startswith("resp_fake_")
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.usage.reasoning.output_tokens"] == 3
    assert "llm.token_count.completion_details.reasoning" not in a  # lean: gen_ai.* only
    assert json.loads(a["output.value"])["output"][0]["content"][0]["text"] == "Bonjour!"


def test_responses_api_function_calls_and_their_outputs(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    server.reply(tool_calls=[ToolCall("get_weather", '{"city":"Oslo"}', id="call_9")])
    first = client.responses.create(model="gpt-4.1", input="Weather in Oslo?", tools=[tool])  # type: ignore[list-item]
    client.responses.create(
        model="gpt-4.1",
        input=[
            {"role": "user", "content": "Weather in Oslo?"},
            first.output[0].model_dump(exclude_none=True),  # type: ignore[misc]
            {"type": "function_call_output", "call_id": "call_9", "output": "-3 C"},
        ],
    )
    a1, a2 = (attrs(s) for s in spans.get_finished_spans())
    assert a1["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert a1["llm.output_messages.0.message.tool_calls.0.tool_call.id"] == "call_9"
    assert a1["llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments"] == (
        '{"city":"Oslo"}'
    )
    assert a2["llm.input_messages.1.message.tool_calls.0.tool_call.function.name"] == "get_weather"
    assert a2["llm.input_messages.2.message.role"] == "tool"
    assert a2["llm.input_messages.2.message.content"] == "-3 C"


def test_legacy_completion_is_an_llm_span_with_prompts(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply(" there!")
    out = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hello", stop=["\n"])
    assert out.choices[0].text == " there!"
    span = only(spans)
    assert span.name == "text_completion gpt-3.5-turbo-instruct"
    a = attrs(span)
    assert a["otelfeedback.span_type"] == "LLM"
    assert a["gen_ai.operation.name"] == "text_completion"
    assert a["llm.prompts"] == ("Hello",)
    assert a["gen_ai.request.stop_sequences"] == ("\n",)
    assert a["llm.output_messages.0.message.content"] == " there!"


def test_embeddings_record_texts_model_usage_and_size_but_never_vectors(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    result = client.embeddings.create(
        model="text-embedding-3-small", input=["first text", "second"], dimensions=16
    )
    assert len(result.data[0].embedding) == 16
    span = only(spans)
    assert span.name == "embeddings text-embedding-3-small"
    a = attrs(span)
    assert a["otelfeedback.span_type"] == "EMBEDDING"
    assert a["openinference.span.kind"] == "EMBEDDING"
    assert a["embedding.embeddings.0.embedding.text"] == "first text"
    assert a["gen_ai.response.model"] == "text-embedding-3-small"
    assert "embedding.model_name" not in a  # lean: gen_ai.* only
    assert a["gen_ai.embeddings.dimension.count"] == 16
    assert a["gen_ai.usage.input_tokens"] == 3
    vector_digits = str(result.data[0].embedding[0])[:6]
    assert all(vector_digits not in str(v) for v in a.values())


def test_azure_client_is_traced_with_the_azure_provider(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai(attributes="full")
    with AzureOpenAI(
        azure_endpoint=server.base_url.removesuffix("/v1"),
        azure_deployment="my-gpt",
        api_version="2024-10-21",
        api_key="azure-key",
        max_retries=0,
    ) as azure:
        azure.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert server.requests[-1].path == "/openai/deployments/my-gpt/chat/completions"
    a = attrs(only(spans))
    assert a["gen_ai.provider.name"] == "azure.ai.openai"
    assert a["llm.provider"] == "azure"
    assert a["gen_ai.request.model"] == "gpt-4o"


def test_an_endpoint_we_do_not_know_passes_through_untouched(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    models = list(client.models.list())
    assert models[0].id == "fake-model"
    assert spans.get_finished_spans() == ()


def test_raw_response_variants_are_traced_and_return_the_sdk_objects(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.headers["x-request-id"] == "req_fake"
    assert raw.parse().choices[0].message.content == raw.parse().choices[0].message.content
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES
    ) as resp:
        body = resp.parse()
    finished = spans.get_finished_spans()
    assert len(finished) == 2
    for span in finished:
        a = attrs(span)
        assert a["llm.output_messages.0.message.content"].startswith("Fake reply to:")
        assert a["gen_ai.usage.input_tokens"] > 0
    assert body.choices[0].finish_reason == "stop"


def test_a_long_tool_conversation_keeps_the_span_kind_session_and_user(
    client: OpenAI, server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai(client=client)
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You plan trips."}]
    for turn in range(30):  # 30 tool rounds: ~150 message attributes without a budget
        call_id = f"call_{turn}"
        messages.append({"role": "user", "content": f"question {turn}"})
        messages.append(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call_id, "content": "sunny"})
    messages.append({"role": "user", "content": "So, should I pack an umbrella?"})
    server.reply("No umbrella needed.")
    with otelfeedback.using_session("s-42"), otelfeedback.using_user("u-7"):
        client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    span = only(spans)
    a = attrs(span)
    assert span.dropped_attributes == 0
    assert a["openinference.span.kind"] == "LLM"
    assert (a["session.id"], a["user.id"]) == ("s-42", "u-7")
    # The system prompt and the newest messages are kept under their own indices; the
    # conversation is whole in input.value.
    assert a["llm.input_messages.0.message.content"] == "You plan trips."
    last = len(messages) - 1
    assert a[f"llm.input_messages.{last}.message.content"] == "So, should I pack an umbrella?"
    omitted = a["otelfeedback.llm.input_messages.omitted"]
    assert omitted > 0
    assert "llm.input_messages.1.message.content" not in a
    assert json.loads(a["input.value"])["messages"] == messages
    assert a["llm.output_messages.0.message.content"] == "No umbrella needed."
