"""Response -> span attributes, one function per endpoint family.

Each function takes a response model or the same data as plain JSON (raw responses and
rebuilt streams), reading fields with ``get`` so both work. The ``full`` profile adds the
OpenInference duplicates (``llm.model_name``, ``llm.token_count.*``) and OpenAI's service
tier and system fingerprint.

``output.value`` of a chat, completion or Responses-API call is the response body, added by
``Call`` (from the bytes received, when it has them); an embeddings call records a summary
here instead (the vectors are never recorded).
"""

from __future__ import annotations

from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.instrumentation.openai.content import Content, fields, get
from otelfeedback.instrumentation.openai.request_attrs import tool_call_attributes


def usage(data: Any, attrs: dict[str, Any], full: bool) -> None:
    """Token counts (``gen_ai.usage.*``; with ``full`` also ``llm.token_count.*``, and the
    cached and reasoning counts even when zero), from chat/completions or Responses-API
    usage."""
    if data is None:
        return
    f = fields(data)
    inp = f.get("prompt_tokens")
    if inp is not None:  # chat and legacy completions
        out = f.get("completion_tokens")
        in_details = f.get("prompt_tokens_details")
        out_details = f.get("completion_tokens_details")
    else:  # the Responses API
        inp = f.get("input_tokens")
        out = f.get("output_tokens")
        in_details = f.get("input_tokens_details")
        out_details = f.get("output_tokens_details")
    cached = get(in_details, "cached_tokens") if in_details is not None else None
    reasoning = get(out_details, "reasoning_tokens") if out_details is not None else None
    if not full:  # lean: the details only when there are some (OpenAI sends zeros)
        if isinstance(inp, int):
            attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = inp
        if isinstance(out, int):
            attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = out
        if isinstance(cached, int) and cached:
            attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
        if isinstance(reasoning, int) and reasoning:
            attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
        return
    total = f.get("total_tokens")
    if isinstance(inp, int):
        attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = attrs[sc.LLM_TOKEN_COUNT_PROMPT] = inp
    if isinstance(out, int):
        attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = attrs[sc.LLM_TOKEN_COUNT_COMPLETION] = out
    if not isinstance(total, int) and isinstance(inp, int):
        total = inp + (out if isinstance(out, int) else 0)
    if isinstance(total, int):
        attrs[sc.LLM_TOKEN_COUNT_TOTAL] = total
    if isinstance(cached, int):
        attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = attrs[sc.LLM_TOKEN_COUNT_CACHE_READ] = (
            cached
        )
    if isinstance(reasoning, int):
        attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = attrs[sc.LLM_TOKEN_COUNT_REASONING] = (
            reasoning
        )


def _identity(resp: Any, attrs: dict[str, Any], full: bool) -> None:
    f = fields(resp)
    rid = f.get("id")
    if isinstance(rid, str):
        attrs[sc.GEN_AI_RESPONSE_ID] = rid
    model = f.get("model")
    if isinstance(model, str):
        attrs[sc.GEN_AI_RESPONSE_MODEL] = model
        if full:
            attrs[sc.LLM_MODEL_NAME] = model
    if full:
        tier = f.get("service_tier")
        if isinstance(tier, str):
            attrs[sc.OPENAI_RESPONSE_SERVICE_TIER] = tier
        fingerprint = f.get("system_fingerprint")
        if isinstance(fingerprint, str):
            attrs[sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint
    usage(f.get("usage"), attrs, full)


def _output_message(
    index: int, text: Any, tool_calls: list[Any], content: Content, attrs: dict[str, Any]
) -> None:
    prefix = f"{sc.LLM_OUTPUT_MESSAGES}.{index}."
    attrs[prefix + sc.MESSAGE_ROLE] = "assistant"
    if isinstance(text, str):
        attrs[prefix + sc.MESSAGE_CONTENT] = content.text(text)
    if tool_calls:
        tool_call_attributes(prefix, tool_calls, content, attrs)


def chat(resp: Any, content: Content) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    _identity(resp, attrs, content.full)
    reasons = []
    for i, choice in enumerate(get(resp, "choices", ())):
        f = fields(choice)
        reason = f.get("finish_reason")
        if reason is not None:
            reasons.append(str(reason))
        if content.capture:
            message = fields(f.get("message"))
            text = message.get("content")
            if text is None:
                text = message.get("refusal")
            calls = list(message.get("tool_calls") or ())
            index = f.get("index")
            _output_message(i if index is None else index, text, calls, content, attrs)
    if reasons:
        attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(reasons)
    return attrs


def completions(resp: Any, content: Content) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    _identity(resp, attrs, content.full)
    reasons = []
    for i, choice in enumerate(get(resp, "choices", ())):
        reason = get(choice, "finish_reason")
        if reason is not None:
            reasons.append(str(reason))
        if content.capture:
            _output_message(get(choice, "index", i), get(choice, "text"), [], content, attrs)
    if reasons:
        attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(reasons)
    return attrs


def responses(resp: Any, content: Content) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    _identity(resp, attrs, content.full)
    texts: list[str] = []
    calls: list[Any] = []
    for item in get(resp, "output", ()):
        kind = get(item, "type")
        if kind == "message":
            for part in get(item, "content", ()):
                text = get(part, "text", get(part, "refusal"))
                if isinstance(text, str):
                    texts.append(text)
        elif kind == "function_call":
            calls.append({"id": get(item, "call_id"), "function": item})
    status = get(resp, "status")
    if calls:
        reason = "tool_calls"
    elif status == "completed":
        reason = "stop"
    else:
        reason = str(get(get(resp, "incomplete_details"), "reason", status or "unknown"))
    attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = (reason,)
    if content.capture:
        _output_message(0, "".join(texts) if texts else None, calls, content, attrs)
    return attrs


def embeddings(resp: Any, content: Content) -> dict[str, Any]:
    """Model, usage and vector size; the vectors themselves are never recorded."""
    attrs: dict[str, Any] = {}
    model = get(resp, "model")
    if isinstance(model, str):
        attrs[sc.GEN_AI_RESPONSE_MODEL] = model
        if content.full:
            attrs[sc.EMBEDDING_MODEL_NAME] = model
    usage(get(resp, "usage"), attrs, content.full)
    data = list(get(resp, "data", ()))
    first = get(data[0], "embedding") if data else None
    if isinstance(first, list) and first:
        attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(first)
    if content.capture:
        summary = {
            "model": model,
            "data": [{"index": get(d, "index", i)} for i, d in enumerate(data)],
            "dimensions": len(first) if isinstance(first, list) else None,
            "usage": {"prompt_tokens": attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS)},
        }
        content.add_io(attrs, "output", summary)
    return attrs
