"""Fixtures: a fake OpenAI-compatible judge on loopback (the real ``openai`` client talks to
it), a file store, and the tutorial's chatbot (steps 1-2) whose LLM is the same fake."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest

import otelfeedback
from otelfeedback.testing import FakeOpenAIServer, JudgeRequest

ANSWER = "MLflow is an open-source platform for managing the machine learning lifecycle."
EXPECTED = (
    "MLflow is an open-source platform for the machine learning lifecycle, with Projects, "
    "the Model Registry and experiment tracking."
)
CONTEXT = (
    "MLflow is an open-source platform for managing the end-to-end machine learning "
    "lifecycle: experiment tracking, Projects, Models and the Model Registry."
)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    """The fake OpenAI server, where the judges' calls go (``OPENAI_BASE_URL``); no key,
    one retry at most, half a second per call."""
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OTELFEEDBACK_JUDGE_MAX_RETRIES", "1")
        monkeypatch.setenv("OTELFEEDBACK_JUDGE_TIMEOUT", "2")
        yield server


@pytest.fixture
def store(store_location: Path | str) -> Path | str:
    """A configured store of each kind."""
    otelfeedback.configure(store=store_location, service_name="chatbot")
    return store_location


def judge_requests(server: FakeOpenAIServer) -> list[Any]:
    """The judge requests the fake received (structured output with result/rationale)."""
    return [r for r in server.requests if isinstance(r.body, dict) and "response_format" in r.body]


def user_prompt(request: Any) -> str:
    return str(request.body["messages"][-1]["content"])


@dataclass
class Chatbot:
    """The tutorial's app (step 1): a traced RAG chatbot whose LLM is the fake server."""

    server: FakeOpenAIServer
    client: openai.OpenAI

    def __post_init__(self) -> None:
        client = self.client

        @otelfeedback.trace(span_type="RETRIEVER")
        def retrieve_context(query: str) -> str:
            if "mlflow" in query.lower():
                return CONTEXT
            return "General information about machine learning and data science."

        @otelfeedback.trace
        def my_chatbot(user_question: str) -> str:
            context = retrieve_context(user_question)
            response = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[
                    {"role": "system", "content": "Use the provided context to answer."},
                    {"role": "user", "content": f"Context: {context}\n\nQuestion: {user_question}"},
                ],
            )
            return response.choices[0].message.content or ""

        self.my_chatbot = my_chatbot
        self.retrieve_context = retrieve_context


@pytest.fixture
def chatbot(fake: FakeOpenAIServer, store: Path | str) -> Iterator[Chatbot]:
    with openai.OpenAI(base_url=fake.base_url, api_key="fake") as client:
        yield Chatbot(fake, client)


def verdict_by_tag(tag: str, value: str, rationale: str = "") -> Any:
    """A judge hook answering ``value`` when the prompt has ``<tag>``, else the default."""
    from otelfeedback.testing import Verdict

    def hook(request: JudgeRequest) -> Verdict | None:
        return Verdict(value, rationale or f"{tag}: {value}") if tag in request.sections else None

    return hook
