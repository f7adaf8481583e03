"""Which OpenAI calls get a span, and how each is read: the route table.

A request is matched on its method and URL path (as the SDK builds it, before Azure or a
proxy rewrites it). Anything not in the table passes through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otelfeedback.instrumentation.openai import request_attrs, response_attrs, streams
from otelfeedback.instrumentation.openai.content import Content
from otelfeedback.semconv import SpanType
from otelfeedback.tracing.span import type_attributes


@dataclass(frozen=True)
class Endpoint:
    """One instrumented API operation."""

    operation: str
    """``gen_ai.operation.name``: ``chat``, ``text_completion`` or ``embeddings``."""
    span_type: SpanType
    request: Callable[[Mapping[str, Any], Content], dict[str, Any]]
    response: Callable[[Any, Content], dict[str, Any]]
    accumulator: Callable[[], streams.Accumulator] | None
    output_is_body: bool = True
    """``output.value`` is the response body (added by ``Call``, from the bytes received
    when it can); else ``response`` records its own (embeddings: a summary, no vectors)."""
    type_attributes: Mapping[str, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "type_attributes", type_attributes(self.span_type))


CHAT = Endpoint(
    "chat", SpanType.CHAT_MODEL, request_attrs.chat, response_attrs.chat, streams.ChatAccumulator
)
RESPONSES = Endpoint(
    "chat",
    SpanType.CHAT_MODEL,
    request_attrs.responses,
    response_attrs.responses,
    streams.ResponsesAccumulator,
)
COMPLETIONS = Endpoint(
    "text_completion",
    SpanType.LLM,
    request_attrs.completions,
    response_attrs.completions,
    streams.CompletionAccumulator,
)
EMBEDDINGS = Endpoint(
    "embeddings",
    SpanType.EMBEDDING,
    request_attrs.embeddings,
    response_attrs.embeddings,
    None,
    output_is_body=False,
)

_BY_PATH: dict[str, Endpoint] = {
    "/chat/completions": CHAT,
    "/responses": RESPONSES,
    "/completions": COMPLETIONS,
    "/embeddings": EMBEDDINGS,
}


def lookup(method: str, url: str) -> Endpoint | None:
    """The endpoint for a request, or ``None`` to pass it through."""
    if method.lower() != "post":
        return None
    found = _BY_PATH.get(url)
    if found is not None:
        return found
    path = url.split("?", 1)[0].rstrip("/")
    for suffix in ("/chat/completions", "/responses", "/embeddings", "/completions"):
        if path.endswith(suffix):
            return _BY_PATH[suffix]
    return None
