"""The facts shown first for a model call: model, parameters, tokens, latency and cost.

Read from the OTel GenAI attributes (``gen_ai.*``), with OpenInference's (``llm.*``) as the
fallback, so spans from our instrumentation, OpenLLMetry, OpenInference or a Collector all
get the same header. Costs come from ``server.pricing``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.server.pricing import PriceTable
from otelfeedback.store.entities import Span, Trace

#: Span types whose page opens with the model-call header.
MODEL_TYPES = frozenset({"LLM", "CHAT_MODEL", "EMBEDDING"})
_REQUEST_PREFIX = "gen_ai.request."
_SKIPPED_PARAMETERS = frozenset({sc.GEN_AI_REQUEST_MODEL, "gen_ai.request.encoding_formats"})


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _first(attributes: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attributes.get(key)
        if value not in (None, ""):
            return value
    return None


def tokens(span: Span) -> tuple[int | None, int | None]:
    """The span's own input and output tokens (None when it records none)."""
    a = span.attributes
    return (
        _int(_first(a, sc.GEN_AI_USAGE_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_PROMPT)),
        _int(_first(a, sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_COMPLETION)),
    )


def model_of(span: Span) -> str | None:
    value = _first(
        span.attributes, sc.GEN_AI_RESPONSE_MODEL, sc.GEN_AI_REQUEST_MODEL, sc.LLM_MODEL_NAME
    )
    return str(value) if value is not None else None


def _display(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format_number(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def format_number(value: float) -> str:
    """A number as people read it: no exponent for ordinary magnitudes, no float noise
    (``1234567.5``, ``0.8``, ``0.3`` for 0.1 + 0.2, ``1e-07``)."""
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    if sum(c.isdigit() for c in text.split("e")[0]) > 15:  # float noise: 0.30000000000000004
        text = f"{value:.12g}"
    if "e" in text and 1e-4 <= abs(value) < 1e16:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text


#: Keys of an API request body that are the prompt, not parameters.
_NOT_PARAMETERS = frozenset(
    ("model", "messages", "tools", "input", "prompt", "instructions", "functions")
)


def _request_body(span: Span) -> dict[str, Any] | None:
    """The API request body a model-call span records as its input (``input.value`` of our
    OpenAI spans, whose lean profile has no ``llm.invocation_parameters``), else None."""
    if span.span_type not in MODEL_TYPES:
        return None
    body = span.inputs
    if isinstance(body, dict) and "model" in body and _NOT_PARAMETERS.intersection(body):
        return body
    return None


def parameters(span: Span) -> list[tuple[str, str]]:
    """The request parameters: ``gen_ai.request.*`` (temperature, max_tokens, ...), then
    the rest from OpenInference's ``llm.invocation_parameters`` JSON or, without it, from
    the request body a model-call span records as its input."""
    found: dict[str, str] = {}
    for key in sorted(span.attributes):
        if key.startswith(_REQUEST_PREFIX) and key not in _SKIPPED_PARAMETERS:
            found[key[len(_REQUEST_PREFIX) :]] = _display(span.attributes[key])
    raw = span.attributes.get(sc.LLM_INVOCATION_PARAMETERS)
    invocation: Any = None
    if isinstance(raw, str):
        try:
            invocation = json.loads(raw)
        except ValueError:
            invocation = None
    else:
        invocation = _request_body(span)
    if isinstance(invocation, dict):
        for key, value in invocation.items():
            if key not in _NOT_PARAMETERS and key not in found:
                found[str(key)] = _display(value)
    return list(found.items())


@dataclass
class ModelCall:
    """The header of a model-call span."""

    model: str | None
    provider: str | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float
    cost: float | None
    parameters: list[tuple[str, str]] = field(default_factory=list)
    finish_reasons: str | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None


def model_call(span: Span, prices: PriceTable) -> ModelCall | None:
    """The header facts of a model call, or None for a span that is not one (not an
    LLM / chat / embedding span and no model name)."""
    model = model_of(span)
    if span.span_type not in MODEL_TYPES and model is None:
        return None
    a = span.attributes
    tokens_in, tokens_out = tokens(span)
    finish = a.get(sc.GEN_AI_RESPONSE_FINISH_REASONS)
    provider = _first(a, sc.GEN_AI_PROVIDER_NAME, "gen_ai.system", sc.LLM_PROVIDER, sc.LLM_SYSTEM)
    return ModelCall(
        model=model,
        provider=str(provider) if provider is not None else None,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        latency_ms=span.duration_ms,
        cost=prices.cost(model, tokens_in or 0, tokens_out or 0)
        if (tokens_in or tokens_out)
        else None,
        parameters=parameters(span),
        finish_reasons=", ".join(map(str, finish)) if isinstance(finish, list) else finish,
        cached_tokens=_int(
            _first(a, sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_CACHE_READ)
        ),
        reasoning_tokens=_int(
            _first(a, sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_REASONING)
        ),
    )


def trace_cost(trace: Trace, prices: PriceTable) -> float | None:
    """The summed cost of the trace's model calls with a known price (None if none has)."""
    total: float | None = None
    for span in trace.spans:
        tokens_in, tokens_out = tokens(span)
        if not (tokens_in or tokens_out):
            continue
        cost = prices.cost(model_of(span), tokens_in or 0, tokens_out or 0)
        if cost is not None:
            total = (total or 0.0) + cost
    return total


def money(usd: float | None) -> str:
    """US dollars: ``$1.25``, ``$0.0123``, ``$0.00012`` (small calls keep their digits)."""
    if usd is None:
        return "—"
    if usd == 0:
        return "$0"
    if usd >= 1:
        return f"${usd:,.2f}"
    if usd >= 0.001:
        return f"${usd:.4f}"
    return f"${usd:.6f}".rstrip("0") if usd >= 1e-6 else "<$0.000001"
