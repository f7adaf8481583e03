"""The attribute profiles of an OpenAI span: ``lean`` (the default) records each fact once,
in the vocabulary the backends read; ``full`` (``openai_attributes="full"``, its variable, or
``instrument_openai(attributes="full")``) adds the other vocabulary's duplicates. A bad value
is a ``ConfigurationError`` that changes nothing. Our own pages show the same facts for both.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otelfeedback
from otelfeedback.errors import ConfigurationError
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer, ToolCall, capture_spans
from tests.instrumentation.conftest import MESSAGES, WEATHER_TOOL, attrs, only
from tests.samplers import SeenBySampler
from tests.server.live import LiveServer, get

USAGE = {"prompt_tokens": 12, "completion_tokens": 2, "cached_tokens": 4}

#: A plain chat call with parameters, in the lean profile: exactly these attributes.
LEAN_CHAT = {
    # the kind (our UI, OpenInference readers) and the operation (OTel, Phoenix, MLflow)
    "otelfeedback.span_type",
    "openinference.span.kind",
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "server.address",
    "server.port",
    "gen_ai.request.model",
    "gen_ai.request.temperature",
    "gen_ai.request.max_tokens",
    "gen_ai.output.type",  # asked for: a response_format was given
    "llm.input_messages.0.message.role",
    "llm.input_messages.0.message.content",
    "llm.input_messages.1.message.role",
    "llm.input_messages.1.message.content",
    "input.value",
    "input.mime_type",
    "gen_ai.response.id",
    "gen_ai.response.model",
    "gen_ai.response.finish_reasons",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "llm.output_messages.0.message.role",
    "llm.output_messages.0.message.content",
    "output.value",
    "output.mime_type",
}
#: What ``full`` adds to the same call: the other vocabulary's copies and OpenAI's extras.
FULL_EXTRA = {
    "llm.provider",
    "llm.system",
    "llm.model_name",
    "llm.invocation_parameters",
    "gen_ai.request.stream",
    "gen_ai.usage.cache_read.input_tokens",  # also when zero
    "gen_ai.usage.reasoning.output_tokens",  # also when zero
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.total",
    "llm.token_count.prompt_details.cache_read",
    "llm.token_count.completion_details.reasoning",
    "openai.response.system_fingerprint",
    "openai.response.service_tier",
}


def chat(client: OpenAI) -> None:
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,  # type: ignore[arg-type]
        temperature=0.2,
        max_tokens=50,
        response_format={"type": "text"},
    )


def test_lean_is_the_default_and_records_each_fact_once(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.reply("Paris.", usage=USAGE)
    chat(client)
    a = attrs(only(spans))
    assert set(a) == LEAN_CHAT | {"gen_ai.usage.cache_read.input_tokens"}  # not zero here
    assert a["gen_ai.usage.input_tokens"] == 12 and a["gen_ai.usage.output_tokens"] == 2
    assert a["gen_ai.usage.cache_read.input_tokens"] == 4
    assert a["gen_ai.response.model"] == a["gen_ai.request.model"] == "gpt-4o-mini"
    assert a["gen_ai.output.type"] == "text"
    assert json.loads(a["input.value"])["temperature"] == 0.2  # every parameter is here
    usage = json.loads(a["output.value"])["usage"]  # the zero reasoning count is here
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


def test_lean_leaves_out_the_text_output_type_and_a_false_stream_flag(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    plain, streamed = (attrs(s) for s in spans.get_finished_spans())
    assert "gen_ai.request.stream" not in plain and "gen_ai.output.type" not in plain
    assert streamed["gen_ai.request.stream"] is True
    assert streamed["otelfeedback.stream.end"] == "exhausted"
    assert streamed["gen_ai.usage.output_tokens"] > 0
    assert not [k for k in streamed if k.startswith("llm.token_count.")]


def test_full_profile_through_the_configure_setting_adds_the_duplicates(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    otelfeedback.instrument_openai()
    server.reply("Paris.", usage=USAGE)
    with capture_spans(openai_attributes="full") as spans:
        chat(client)
    a = attrs(only(spans))
    assert set(a) == LEAN_CHAT | FULL_EXTRA
    assert a["llm.token_count.total"] == 14
    assert a["llm.model_name"] == "gpt-4o-mini" and a["llm.provider"] == "openai"
    assert json.loads(a["llm.invocation_parameters"])["max_tokens"] == 50
    assert a["gen_ai.request.stream"] is False


def test_full_profile_from_the_environment_and_the_instrument_option_wins(
    server: FakeOpenAIServer, client: OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_OPENAI_ATTRIBUTES", " FULL ")
    otelfeedback.instrument_openai()
    with capture_spans() as spans:
        chat(client)
        otelfeedback.instrument_openai(attributes="lean")
        chat(client)
    from_env, from_option = (attrs(s) for s in spans.get_finished_spans())
    assert set(from_env) >= FULL_EXTRA
    assert set(from_option) == LEAN_CHAT


@pytest.mark.parametrize("value", ["verbose", "", "lean,full", 1, True])
def test_a_bad_profile_is_a_clear_error_that_changes_nothing(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans, value: Any
) -> None:
    otelfeedback.instrument_openai()
    with pytest.raises(ConfigurationError, match=r"openai_attributes.*expected"):
        otelfeedback.configure(store="", openai_attributes=value)
    with pytest.raises(ConfigurationError, match=r"attributes.*expected"):
        otelfeedback.instrument_openai(attributes=value)
    with pytest.raises(ConfigurationError, match=r"attributes.*expected"):
        otelfeedback.openai.autolog(attributes=value)
    chat(client)  # the configuration and the instrumentation in force are untouched
    assert set(attrs(only(spans))) == LEAN_CHAT


def test_a_bad_profile_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_OPENAI_ATTRIBUTES", "everything")
    with pytest.raises(ConfigurationError, match="OTELFEEDBACK_OPENAI_ATTRIBUTES='everything'"):
        otelfeedback.configure(store="")


def _facts(page: str) -> dict[str, Any]:
    """The model-call header of a trace page: data-fact -> text (the parameters as a dict),
    latency left out."""
    facts = re.findall(r'data-fact="(\w+)"[^>]*>(.*?)</dd>', page, re.S)
    found: dict[str, Any] = {
        k: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", v)).strip()
        for k, v in facts
        if k != "latency"
    }
    found["parameters"] = dict(
        re.findall(r'<span class="param-key">(.*?)</span> (.*?)</span>', page, re.S)
    )
    return found


def _conversation(page: str) -> list[str]:
    start = page.index('id="span-detail"')
    end = page.index('id="attributes"', start)
    text = re.sub(r"<[^>]+>", " ", page[start:end])
    return [m for m in MESSAGE_TEXTS if m in text]


MESSAGE_TEXTS = ("You are terse.", "What is the capital of France?", "get_weather", "Paris")


def test_our_pages_show_the_same_facts_for_both_profiles(
    server: FakeOpenAIServer, client: OpenAI, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    trace_ids: dict[str, str] = {}
    span_ids: dict[str, str] = {}
    for profile in ("lean", "full"):
        otelfeedback.configure(store=store, openai_attributes=profile)
        otelfeedback.instrument_openai()
        server.reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"})], usage=USAGE)
        with otelfeedback.using_session("s-42"), otelfeedback.using_user("u-7"):
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,  # type: ignore[arg-type]
                tools=[WEATHER_TOOL],  # type: ignore[list-item]
                temperature=0.2,
                tool_choice="auto",
            )
        trace_id = otelfeedback.get_last_active_trace_id()
        assert trace_id is not None and otelfeedback.flush()
        trace_ids[profile] = trace_id
        span_ids[profile] = otelfeedback.get_trace(trace_id).spans[0].span_id
    from otelfeedback.server import create_app

    live = LiveServer(create_app(store))
    try:
        pages = {
            p: get(f"{live.url}/traces/{trace_ids[p]}?span={span_ids[p]}").text for p in trace_ids
        }
        listing = get(f"{live.url}/traces").text
    finally:
        live.close()
    lean, full = _facts(pages["lean"]), _facts(pages["full"])
    assert full["parameters"].pop("stream") == "false"  # lean records only stream=True
    assert lean == full
    assert lean["model"] == "gpt-4o-mini (openai)"
    assert lean["tokens"].startswith("12 / 2")
    assert lean["cost"].startswith("$") and lean["finish"] == "tool_calls"
    assert lean["parameters"] == {"temperature": "0.2", "tool_choice": "auto"}
    for page in pages.values():
        assert _conversation(page) == list(MESSAGE_TEXTS)
        assert "CHAT_MODEL" in page and "s-42" in page and "u-7" in page
    assert listing.count(">14<") >= 2  # total tokens of both traces in the table


def test_a_sampler_sees_operation_provider_model_and_server_and_app_limits_hold(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    """The attributes the GenAI conventions list for sampling are given at the start; the
    rest are added right after, under the app's span limits (here a value length limit)."""
    sampler = SeenBySampler()
    provider = TracerProvider(sampler=sampler, span_limits=SpanLimits(max_attribute_length=12))
    exporter = InMemorySpanExporter()
    otelfeedback.configure(store="", tracer_provider=provider, exporters=[exporter])
    try:
        otelfeedback.instrument_openai()
        server.reply("Paris is the capital.", usage=USAGE)
        chat(client)
        otelfeedback.flush()
    finally:
        otelfeedback.configure(store="")
    assert sampler.seen == [
        {
            "gen_ai.provider.name": "openai",
            "gen_ai.operation.name": "chat",
            "server.address": "127.0.0.1",
            "server.port": server.port,
            "gen_ai.request.model": "gpt-4o-mini",
        }
    ]
    a = attrs(only_span(exporter))
    assert set(a) == LEAN_CHAT | {"gen_ai.usage.cache_read.input_tokens"}
    assert a["llm.output_messages.0.message.content"] == "Paris is the"  # the app's limit
    assert len(a["input.value"]) == 12 and len(a["output.value"]) == 12


def only_span(exporter: InMemorySpanExporter) -> Any:
    (span,) = exporter.get_finished_spans()
    return span
