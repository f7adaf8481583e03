"""Errors reach the caller unchanged and mark the span; retries show as events; a failure
inside our recording never fails the call."""

from __future__ import annotations

import json
import logging
import socket

import openai
import pytest
from openai import OpenAI

import otelfeedback
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer
from tests.instrumentation.conftest import API_KEY, MESSAGES, attrs, only


def _error_of(client: OpenAI) -> BaseException:
    with pytest.raises(Exception) as caught:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    return caught.value


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, openai.InternalServerError),
        (400, openai.BadRequestError),
        (429, openai.RateLimitError),
    ],
)
def test_http_errors_reach_the_caller_as_the_sdk_raises_them_and_mark_the_span(
    server: FakeOpenAIServer,
    client: OpenAI,
    spans: CapturedSpans,
    status: int,
    error: type[Exception],
) -> None:
    server.fail(status, message="nope")
    plain = _error_of(client)
    otelfeedback.instrument_openai()
    server.fail(status, message="nope")
    traced = _error_of(client)
    assert type(traced) is type(plain) is error
    assert str(traced) == str(plain)
    span = only(spans)
    a = attrs(span)
    assert span.status.status_code.name == "ERROR"
    assert a["error.type"] == error.__name__
    assert a["http.response.status_code"] == status
    assert span.events[0].name == "exception"


def test_timeout_is_recorded_and_raised(server: FakeOpenAIServer, spans: CapturedSpans) -> None:
    otelfeedback.instrument_openai()
    server.reply("late", delay=2)
    with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=0.2) as c:
        with pytest.raises(openai.APITimeoutError):
            c.chat.completions.create(model="m", messages=MESSAGES)
    assert attrs(only(spans))["error.type"] == "APITimeoutError"


def test_connection_refused_is_recorded_and_raised(spans: CapturedSpans) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    otelfeedback.instrument_openai()
    with OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, max_retries=0) as c:
        with pytest.raises(openai.APIConnectionError):
            c.chat.completions.create(model="m", messages=MESSAGES)
    a = attrs(only(spans))
    assert a["error.type"] == "APIConnectionError"
    assert a["server.port"] == port


def test_a_malformed_body_raises_what_the_sdk_raises(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    server.reply_malformed()
    plain = _error_of(client)
    otelfeedback.instrument_openai()
    server.reply_malformed()
    traced = _error_of(client)
    assert type(traced) is type(plain) is json.JSONDecodeError
    assert attrs(only(spans))["error.type"] == "JSONDecodeError"


def test_retries_show_as_events_on_the_one_span(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.fail(429, retry_after=0.01)
    server.fail(500)
    with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=2) as c:
        response = c.chat.completions.create(model="m", messages=MESSAGES)
    assert response.choices[0].message.content
    assert len(server.requests) == 3
    span = only(spans)
    assert span.status.status_code.name == "UNSET"
    retries = [e for e in span.events if e.name == "otelfeedback.retry"]
    assert [e.attributes["http.request.resend_count"] for e in retries] == [1, 2]
    assert [e.attributes["http.response.status_code"] for e in retries] == [429, 500]
    assert all(e.attributes["otelfeedback.retry.delay_s"] >= 0 for e in retries)
    assert retries[0].timestamp < retries[1].timestamp
    assert attrs(span)["http.request.resend_count"] == 2


def test_retries_exhausted_end_in_error_with_all_attempts_shown(
    server: FakeOpenAIServer, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    server.fail(503, retry_after=0)
    server.fail(503, retry_after=0)
    with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=1) as c:
        with pytest.raises(openai.InternalServerError):
            c.chat.completions.create(model="m", messages=MESSAGES)
    span = only(spans)
    assert len([e for e in span.events if e.name == "otelfeedback.retry"]) == 1
    assert attrs(span)["error.type"] == "InternalServerError"


def _boom(text: str) -> str:
    raise RuntimeError("redaction hook broke")


def test_a_failure_while_recording_the_request_never_fails_the_call(
    server: FakeOpenAIServer,
    client: OpenAI,
    spans: CapturedSpans,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    otelfeedback.instrument_openai(redact=_boom)
    server.reply("fine")
    server.reply("fine")
    with caplog.at_level(logging.DEBUG, logger="otelfeedback"):
        for _ in range(2):
            out = client.chat.completions.create(model="m", messages=MESSAGES)
            assert out.choices[0].message.content == "fine"
    finished = spans.get_finished_spans()
    assert len(finished) == 2  # each call still has its span, without what failed
    for span in finished:
        a = attrs(span)
        assert a["gen_ai.request.model"] == "m" and a["gen_ai.operation.name"] == "chat"
        assert not any(key.startswith(("llm.input_messages", "input.")) for key in a)
        assert "fine" not in json.dumps(a)  # nothing unredacted recorded
    warned = {r.getMessage() for r in caplog.records if r.levelno == logging.WARNING}
    # the same failures the second time are not warned about again (bounded rate)
    assert any("recording an OpenAI request" in m for m in warned), warned
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == len(warned)


def test_a_failure_while_recording_the_response_still_ends_the_span(
    server: FakeOpenAIServer,
    client: OpenAI,
    spans: CapturedSpans,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")

    def redact_outputs(text: str) -> str:
        if "secret answer" in text:
            raise RuntimeError("cannot redact this")
        return text

    otelfeedback.instrument_openai(redact=redact_outputs)
    server.reply("secret answer")
    out = client.chat.completions.create(model="m", messages=MESSAGES)
    assert out.choices[0].message.content == "secret answer"
    server.reply("secret answer")
    streamed = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == "secret answer"
    finished = spans.get_finished_spans()
    assert len(finished) == 2
    for span in finished:
        a = attrs(span)
        assert "secret answer" not in json.dumps(a)  # nothing unredacted recorded
        assert a["gen_ai.request.model"] == "m"
