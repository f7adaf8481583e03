"""How span inputs and outputs are shown: chat messages as a conversation, else JSON or text.

The messages are read by ``_internal.chat`` (the same reading gives the index its request
and response previews); this module adds OpenInference's flattened
``llm.input_messages.N.message.*`` attributes, retrieved documents, and the helpers the
templates call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from otelfeedback._internal.chat import Message, ToolCall, as_conversation, parse_json_text

__all__ = [
    "Document",
    "Message",
    "ToolCall",
    "as_conversation",
    "conversation_from_attributes",
    "documents",
    "is_structured",
    "pretty",
]

_FLAT = re.compile(r"^llm\.(input|output)_messages\.(\d+)\.message\.(role|content)$")
_FLAT_CALL = re.compile(
    r"^llm\.(input|output)_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\."
    r"function\.(name|arguments)$"
)
_DOC = re.compile(r"^retrieval\.documents\.(\d+)\.document\.(id|content|score|metadata)$")


def conversation_from_attributes(attributes: dict[str, Any], direction: str) -> list[Message]:
    """OpenInference's flattened ``llm.{input,output}_messages.N.message.{role,content}``
    (and their ``tool_calls``)."""
    found: dict[int, dict[str, str]] = {}
    calls: dict[int, dict[int, dict[str, str]]] = {}
    for key, value in attributes.items():
        match = _FLAT.match(key)
        if match and match.group(1) == direction:
            found.setdefault(int(match.group(2)), {})[match.group(3)] = str(value)
            continue
        call = _FLAT_CALL.match(key)
        if call and call.group(1) == direction:
            index = int(call.group(2))
            found.setdefault(index, {})
            calls.setdefault(index, {}).setdefault(int(call.group(3)), {})[call.group(4)] = str(
                value
            )
    return [
        Message(
            m.get("role", "unknown"),
            m.get("content", ""),
            [
                ToolCall(c.get("name", "tool"), parse_json_text(c.get("arguments", "")))
                for _, c in sorted(calls.get(i, {}).items())
            ],
        )
        for i, m in sorted(found.items())
    ]


@dataclass
class Document:
    """A retrieved document: its text, score, id and metadata (any may be missing)."""

    content: str
    score: float | None = None
    doc_id: str | None = None
    metadata: Any = None


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _document(raw: Any) -> Document | None:
    if isinstance(raw, str):
        return Document(raw)
    if not isinstance(raw, dict):
        return None
    content = next(
        (raw[k] for k in ("content", "page_content", "text", "document") if k in raw), None
    )
    if not isinstance(content, str):
        return None
    doc_id = next((raw[k] for k in ("id", "doc_id", "document_id") if k in raw), None)
    return Document(
        content,
        _score(raw.get("score", raw.get("relevance_score"))),
        None if doc_id is None else str(doc_id),
        raw.get("metadata"),
    )


def documents(value: Any, attributes: dict[str, Any]) -> list[Document] | None:
    """The documents a retriever returned: OpenInference's ``retrieval.documents.N.*``
    attributes, else an output that is a list of documents (strings, or objects with
    ``content`` / ``page_content`` / ``text``), also under a ``documents`` key."""
    flat: dict[int, dict[str, Any]] = {}
    for key, item in attributes.items():
        match = _DOC.match(key)
        if match:
            flat.setdefault(int(match.group(1)), {})[match.group(2)] = item
    if flat:
        found = [_document(d) for _, d in sorted(flat.items())]
        return [d for d in found if d is not None] or None
    value = parse_json_text(value)
    if isinstance(value, dict):
        value = value.get("documents")
    if not isinstance(value, list) or not value:
        return None
    docs = [_document(item) for item in value]
    if any(d is None for d in docs) or all(isinstance(item, str) for item in value):
        return None  # a list of plain strings is shown as it is
    return [d for d in docs if d is not None]


def is_structured(value: Any) -> bool:
    return isinstance(value, (dict, list))


def pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)
