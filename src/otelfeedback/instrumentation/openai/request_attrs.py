"""Request body -> span attributes, one function per endpoint family.

Parameters become ``gen_ai.request.*`` (the ``full`` profile adds OpenInference's
``llm.invocation_parameters``, the JSON of every parameter); messages become
``llm.input_messages.N.*`` (only when content is captured); tool definitions become
``llm.tools.N.tool.json_schema``. The body is the JSON the client sends (after the SDK's own
transformation), so every value here is plain JSON data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.instrumentation.openai.content import Content, get

_PARAMS: dict[str, str] = {
    "temperature": sc.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": sc.GEN_AI_REQUEST_TOP_P,
    "max_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "max_completion_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "max_output_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "frequency_penalty": sc.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": sc.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "seed": sc.GEN_AI_REQUEST_SEED,
    "service_tier": sc.OPENAI_REQUEST_SERVICE_TIER,
}
#: Attribute budgets, so that a long conversation keeps an LLM span under OTel's attribute
#: count limit (128 by default; past it the SDK drops the *earliest* attributes, such as the
#: span kind, session and user). The whole conversation is in ``input.value`` anyway.
MAX_INPUT_MESSAGE_ATTRIBUTES = 48
MAX_TOOL_SCHEMAS = 8
MAX_INDEXED_TEXTS = 32
MAX_TOOL_CALLS_PER_MESSAGE = 8
# Not invocation parameters: the prompt itself, and tools (recorded on their own).
_NOT_PARAMS = frozenset(("messages", "input", "prompt", "instructions", "tools", "functions"))


def parameters(body: Mapping[str, Any], invocation_key: str, full: bool) -> dict[str, Any]:
    """``gen_ai.request.*`` for the well-known parameters; with ``full``, also the JSON of
    all parameters under ``invocation_key`` and ``gen_ai.request.stream`` when false (the
    lean profile records the stream flag only when it is set)."""
    attrs: dict[str, Any] = {}
    for key in _PARAMS.keys() & body.keys():  # the ones present (usually few or none)
        value = body[key]
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            attrs[_PARAMS[key]] = value
    stop = body.get("stop")
    if isinstance(stop, str):
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, list) and stop and all(isinstance(s, str) for s in stop):
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = stop
    n = body.get("n")
    if isinstance(n, int) and n != 1:
        attrs[sc.GEN_AI_REQUEST_CHOICE_COUNT] = n
    stream = bool(body.get("stream"))
    if stream or full:
        attrs[sc.GEN_AI_REQUEST_STREAM] = stream
    if full:
        params = {k: v for k, v in body.items() if k not in _NOT_PARAMS}
        attrs[invocation_key] = json.dumps(params, default=str, ensure_ascii=False)
    return attrs


def _tools(tools: Any, attrs: dict[str, Any]) -> None:
    if isinstance(tools, list):
        for i, tool in enumerate(tools[:MAX_TOOL_SCHEMAS]):
            key = f"{sc.LLM_TOOLS}.{i}.{sc.TOOL_JSON_SCHEMA}"
            attrs[key] = json.dumps(tool, default=str, ensure_ascii=False)


def _output_type(fmt: Any, full: bool, attrs: dict[str, Any]) -> None:
    """``gen_ai.output.type``: ``json`` for structured outputs; ``text`` otherwise, which
    the lean profile leaves out (the conventions ask for it only when a format is given)."""
    kind = get(fmt, "type") if fmt is not None and isinstance(fmt, Mapping) else None
    if kind in ("json_schema", "json_object"):
        attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"
    elif full or kind is not None:
        attrs[sc.GEN_AI_OUTPUT_TYPE] = "text"


def message_attributes(
    prefix: str, message: Mapping[str, Any], content: Content, attrs: dict[str, Any]
) -> None:
    """``<prefix>message.*`` for one chat message (role, text or parts, tool calls)."""
    role = message.get("role")
    if role is not None:
        attrs[prefix + sc.MESSAGE_ROLE] = str(role)
    text = message.get("content")
    if isinstance(text, str):
        attrs[prefix + sc.MESSAGE_CONTENT] = content.text(text)
    elif isinstance(text, list):
        for m, part in enumerate(text):
            if not isinstance(part, Mapping):
                continue
            base = f"{prefix}{sc.MESSAGE_CONTENTS}.{m}."
            kind = str(part.get("type") or "text")
            attrs[base + sc.MESSAGE_CONTENT_TYPE] = "image" if "image" in kind else "text"
            if isinstance(part.get("text"), str):
                attrs[base + sc.MESSAGE_CONTENT_TEXT] = content.text(part["text"])
            url = get(part.get("image_url"), "url") or part.get("image_url")
            if isinstance(url, str):
                attrs[base + sc.MESSAGE_CONTENT_IMAGE_URL] = content.text(url)
    name = message.get("name")
    if isinstance(name, str):
        attrs[prefix + sc.MESSAGE_NAME] = name
    call_id = message.get("tool_call_id")
    if isinstance(call_id, str):
        attrs[prefix + sc.MESSAGE_TOOL_CALL_ID] = call_id
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        tool_call_attributes(prefix, calls, content, attrs)


def tool_call_attributes(
    prefix: str, calls: list[Any], content: Content, attrs: dict[str, Any]
) -> None:
    """``<prefix>message.tool_calls.K.tool_call.*`` for chat-style tool calls (the first
    ``MAX_TOOL_CALLS_PER_MESSAGE``; all of them are in ``input.value`` / ``output.value``)."""
    for k, call in enumerate(calls[:MAX_TOOL_CALLS_PER_MESSAGE]):
        base = f"{prefix}{sc.MESSAGE_TOOL_CALLS}.{k}."
        call_id = get(call, "id")
        if call_id is not None:
            attrs[base + sc.TOOL_CALL_ID] = str(call_id)
        function = get(call, "function") or call
        name = get(function, "name")
        if name is not None:
            attrs[base + sc.TOOL_CALL_FUNCTION_NAME] = str(name)
        arguments = get(function, "arguments")
        if isinstance(arguments, str):
            attrs[base + sc.TOOL_CALL_FUNCTION_ARGUMENTS] = content.text(arguments)


def chat(body: Mapping[str, Any], content: Content) -> dict[str, Any]:
    attrs = parameters(body, sc.LLM_INVOCATION_PARAMETERS, content.full)
    _output_type(body.get("response_format"), content.full, attrs)
    _tools(body.get("tools"), attrs)
    if content.capture:
        messages = body.get("messages")
        if isinstance(messages, list):
            input_messages(messages, content, attrs)
    return attrs


def input_messages(messages: list[Any], content: Content, attrs: dict[str, Any]) -> None:
    """``llm.input_messages.N.*`` within ``MAX_INPUT_MESSAGE_ATTRIBUTES``: a leading system
    message and then the newest messages that fit, each under its own index N; how many
    were left out goes to ``otelfeedback.llm.input_messages.omitted``."""
    encoded: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        one: dict[str, Any] = {}
        if type(message) is dict or isinstance(message, Mapping):
            message_attributes(f"{sc.LLM_INPUT_MESSAGES}.{i}.", message, content, one)
        encoded.append(one)
    total = sum(map(len, encoded))
    if total <= MAX_INPUT_MESSAGE_ATTRIBUTES:
        for one in encoded:
            attrs.update(one)
        return
    first = (
        1
        if encoded
        and isinstance(messages[0], Mapping)
        and messages[0].get("role")
        in (
            "system",
            "developer",
        )
        else 0
    )
    budget = MAX_INPUT_MESSAGE_ATTRIBUTES - sum(len(one) for one in encoded[:first])
    kept: list[dict[str, Any]] = []
    for one in reversed(encoded[first:]):
        if len(one) > budget:
            break
        budget -= len(one)
        kept.append(one)
    for one in encoded[:first] + kept[::-1]:
        attrs.update(one)
    attrs[sc.LLM_INPUT_MESSAGES_OMITTED] = len(encoded) - first - len(kept)


def _response_item_message(item: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses-API input item as a chat-style message."""
    kind = item.get("type")
    if kind == "function_call":
        call = {"id": item.get("call_id"), "function": item}
        return {"role": "assistant", "tool_calls": [call]}
    if kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        return {"role": "tool", "tool_call_id": item.get("call_id"), "content": text}
    if "role" in item:
        return dict(item)
    return {"role": str(kind or "item")}


def responses(body: Mapping[str, Any], content: Content) -> dict[str, Any]:
    attrs = parameters(body, sc.LLM_INVOCATION_PARAMETERS, content.full)
    _output_type(get(body.get("text"), "format"), content.full, attrs)
    _tools(body.get("tools"), attrs)
    if content.capture:
        messages: list[Mapping[str, Any]] = []
        instructions = body.get("instructions")
        if isinstance(instructions, str):
            messages.append({"role": "system", "content": instructions})
        items = body.get("input")
        if isinstance(items, str):
            messages.append({"role": "user", "content": items})
        elif isinstance(items, list):
            messages.extend(_response_item_message(i) for i in items if isinstance(i, Mapping))
        input_messages(messages, content, attrs)
    return attrs


def completions(body: Mapping[str, Any], content: Content) -> dict[str, Any]:
    attrs = parameters(body, sc.LLM_INVOCATION_PARAMETERS, content.full)
    if content.capture:
        prompt = body.get("prompt")
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if isinstance(prompts, list) and prompts and all(isinstance(p, str) for p in prompts):
            attrs[sc.LLM_PROMPTS] = [content.text(p) for p in prompts]
    return attrs


def embeddings(body: Mapping[str, Any], content: Content) -> dict[str, Any]:
    attrs = parameters(body, sc.EMBEDDING_INVOCATION_PARAMETERS, content.full)
    attrs.pop(sc.GEN_AI_REQUEST_STREAM, None)
    fmt = body.get("encoding_format")
    if isinstance(fmt, str):
        attrs[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = [fmt]
    if isinstance(body.get("dimensions"), int):
        attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = body["dimensions"]
    if content.capture:
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else inputs
        if isinstance(texts, list):
            for i, text in enumerate(texts[:MAX_INDEXED_TEXTS]):
                if isinstance(text, str):
                    key = f"{sc.EMBEDDING_EMBEDDINGS}.{i}.{sc.EMBEDDING_TEXT}"
                    attrs[key] = content.text(text)
    return attrs
