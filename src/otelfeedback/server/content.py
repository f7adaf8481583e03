"""How span inputs and outputs are shown: chat messages as a conversation, else JSON or text.

Recognises the shapes GenAI spans carry: a list of ``{"role", "content"}`` messages, an
object with ``messages`` (a chat request), an OpenAI-style response with ``choices``, and
OpenInference's flattened ``llm.input_messages.N.message.*`` attributes. Content parts
(``[{"type": "text", "text": ...}]``) are joined; anything else is left to the JSON view.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


@dataclass
class Message:
    role: str
    text: str
    extra: Any = None  # tool calls and other non-text parts, shown as JSON


def _text_of(content: Any) -> tuple[str, Any]:
    if content is None:
        return "", None
    if isinstance(content, str):
        return content, None
    if isinstance(content, list):
        texts, rest = [], []
        for part in content:
            if isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text"):
                texts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                texts.append(part)
            else:
                rest.append(part)
        return "\n".join(texts), rest or None
    return "", content


def _message(raw: Any) -> Message | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("role"), str):
        return None
    text, extra = _text_of(raw.get("content"))
    calls = raw.get("tool_calls") or raw.get("function_call")
    if calls:
        extra = calls if extra is None else {"content": extra, "tool_calls": calls}
    return Message(raw["role"], text, extra)


def _messages(items: Any) -> list[Message] | None:
    if not isinstance(items, list) or not items:
        return None
    result = [_message(m) for m in items]
    if any(m is None for m in result):
        return None
    return [m for m in result if m is not None]


def as_conversation(value: Any) -> list[Message] | None:
    """The chat messages in an input or output value, or None if it is not a chat."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            value = json.loads(value)
        except ValueError:
            return None
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
    single = _message(value)
    return [single] if single is not None else None


_FLAT = re.compile(r"^llm\.(input|output)_messages\.(\d+)\.message\.(role|content)$")


def conversation_from_attributes(attributes: dict[str, Any], direction: str) -> list[Message]:
    """OpenInference's flattened ``llm.{input,output}_messages.N.message.{role,content}``."""
    found: dict[int, dict[str, str]] = {}
    for key, value in attributes.items():
        match = _FLAT.match(key)
        if match and match.group(1) == direction:
            found.setdefault(int(match.group(2)), {})[match.group(3)] = str(value)
    return [
        Message(m.get("role", "unknown"), m.get("content", "")) for _, m in sorted(found.items())
    ]


def is_structured(value: Any) -> bool:
    return isinstance(value, (dict, list))


def pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)
