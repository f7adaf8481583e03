"""Fixtures: a fake OpenAI server on loopback, captured spans, real clients; every test
leaves the SDK uninstrumented."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openai import OpenAI

import otelfeedback
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer, capture_spans

API_KEY = "sk-test-SECRET-key-1234"


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    otelfeedback.uninstrument_openai()


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def spans() -> Iterator[CapturedSpans]:
    with capture_spans() as captured:
        yield captured


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0) as c:
        yield c


def only(spans: CapturedSpans) -> Any:
    """The one finished span (fails if there are more or fewer)."""
    finished = spans.get_finished_spans()
    assert len(finished) == 1, [s.name for s in finished]
    return finished[0]


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is the capital of France?"},
]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
