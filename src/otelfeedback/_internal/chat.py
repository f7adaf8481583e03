"""Chat messages in span inputs and outputs, read once for the index's previews and the UI.

Recognises the shapes GenAI spans carry: a list of ``{"role", "content"}`` messages, an
object with ``messages`` (a chat request, also one level down in a function's arguments), an
OpenAI-style response with ``choices``, and a single message. Content parts
(``[{"type": "text", "text": ...}]``) are joined; tool calls (OpenAI ``tool_calls`` and the
older ``function_call``) are kept as ``ToolCall`` with their arguments parsed.

>>> request_preview({"messages": [{"role": "system", "content": "Be terse."},
...                               {"role": "user", "content": "What is 2+2?"}]})
'What is 2+2?'
>>> response_preview({"choices": [{"message": {"role": "assistant", "content": "4"}}]})
'4'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: Keys whose string value reads as the question of a function's arguments, best first.
_REQUEST_KEYS = ("question", "query", "input", "prompt", "message", "text", "user_input", "q")
#: Keys whose string value reads as the answer of a function's result, best first.
_RESPONSE_KEYS = ("answer", "output", "response", "content", "text", "result", "message")
_TEXT_PARTS = ("text", "input_text", "output_text")


@dataclass
class ToolCall:
    """One tool call of an assistant message: its name and arguments (parsed when JSON)."""

    name: str
    arguments: Any
    call_id: str | None = None


@dataclass
class Message:
    """A chat message: role, text, tool calls, and any other non-text content."""

    role: str
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    extra: Any = None  # content parts that are not text (images, audio, ...)


def _text_of(content: Any) -> tuple[str, Any]:
    if content is None:
        return "", None
    if isinstance(content, str):
        return content, None
    if isinstance(content, list):
        texts, rest = [], []
        for part in content:
            if isinstance(part, dict) and part.get("type") in _TEXT_PARTS:
                texts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                texts.append(part)
            else:
                rest.append(part)
        return "\n".join(texts), rest or None
    return "", content


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str) and raw[:1] in "[{":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _tool_calls(raw: dict[str, Any]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    listed = raw.get("tool_calls")
    if isinstance(listed, list):
        for item in listed:
            if not isinstance(item, dict):
                continue
            function = item.get("function") if isinstance(item.get("function"), dict) else item
            name = function.get("name") if isinstance(function, dict) else None
            arguments = function.get("arguments") if isinstance(function, dict) else None
            call_id = item.get("id")
            calls.append(
                ToolCall(
                    str(name or "tool"),
                    _arguments(arguments),
                    call_id if isinstance(call_id, str) else None,
                )
            )
    legacy = raw.get("function_call")
    if isinstance(legacy, dict):
        calls.append(
            ToolCall(str(legacy.get("name") or "function"), _arguments(legacy.get("arguments")))
        )
    return calls


def as_message(raw: Any) -> Message | None:
    """``raw`` as a chat message, or None when it has no string ``role``."""
    if not isinstance(raw, dict) or not isinstance(raw.get("role"), str):
        return None
    text, extra = _text_of(raw.get("content"))
    call_id = raw.get("tool_call_id")
    return Message(
        raw["role"],
        text,
        _tool_calls(raw),
        call_id if isinstance(call_id, str) else None,
        extra,
    )


def _messages(items: Any) -> list[Message] | None:
    if not isinstance(items, list) or not items:
        return None
    result = [as_message(m) for m in items]
    if any(m is None for m in result):
        return None
    return [m for m in result if m is not None]


def parse_json_text(value: Any) -> Any:
    """``value`` parsed when it is a string holding a JSON object or array, else itself.
    Whitespace before it is allowed (a response body as a server sent it may start with a
    newline)."""
    if isinstance(value, str) and value:
        first = value[0]
        if first.isspace():
            first = value.lstrip()[:1]
        if first in ("{", "["):
            try:
                return json.loads(value)
            except ValueError:
                return value
    return value


def as_conversation(value: Any) -> list[Message] | None:
    """The chat messages in an input or output value, or None if it is not a chat."""
    value = parse_json_text(value)
    if isinstance(value, list):
        return _messages(value)
    if not isinstance(value, dict):
        return None
    if "messages" in value:
        return _messages(value["messages"])
    choices = value.get("choices")
    if isinstance(choices, list) and choices:
        found = [c.get("message") for c in choices if isinstance(c, dict)]
        return _messages([m for m in found if m is not None])
    single = as_message(value)
    return [single] if single is not None else None


def _nested_conversation(value: Any) -> list[Message] | None:
    """A conversation in ``value`` or in one of its object's values (a function's
    ``messages=`` argument, a ``request`` object holding ``messages``)."""
    found = as_conversation(value)
    if found or not isinstance(value, dict):
        return found
    for item in value.values():
        found = as_conversation(item)
        if found:
            return found
    return None


def _keyed_text(value: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    strings = {k: v for k, v in value.items() if isinstance(v, str) and v.strip()}
    if len(strings) == 1 and len(value) == 1:
        return next(iter(strings.values()))
    for key in keys:
        if key in strings:
            return strings[key]
    return None


def _oneline(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def request_preview(value: Any, width: int = 1000) -> str | None:
    """One line for a trace's request: the conversation's last user message, else the
    question-like argument, else the value itself (text, or compact JSON)."""
    value = parse_json_text(value)
    if value is None:
        return None
    messages = _nested_conversation(value)
    if messages:
        users = [m for m in messages if m.role == "user" and m.text.strip()]
        chosen = users[-1] if users else messages[-1]
        return _oneline(chosen.text or _compact(chosen.extra or ""), width)
    if isinstance(value, dict):
        text = _keyed_text(value, _REQUEST_KEYS)
        if text is not None:
            return _oneline(text, width)
    return _oneline(value if isinstance(value, str) else _compact(value), width)


def response_preview(value: Any, width: int = 1000) -> str | None:
    """One line for a trace's response: the answer's text (the last assistant message, the
    first choice), else the answer-like field, else the value itself."""
    value = parse_json_text(value)
    if value is None:
        return None
    messages = _nested_conversation(value)
    if messages:
        answers = [m for m in messages if m.role == "assistant"] or messages
        last = answers[-1]
        if last.text.strip():
            return _oneline(last.text, width)
        if last.tool_calls:
            calls = ", ".join(f"{c.name}()" for c in last.tool_calls)
            return _oneline(f"→ {calls}", width)
    if isinstance(value, dict):
        text = _keyed_text(value, _RESPONSE_KEYS)
        if text is not None:
            return _oneline(text, width)
    return _oneline(value if isinstance(value, str) else _compact(value), width)
