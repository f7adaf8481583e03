"""What the review app shows of a trace: the request and the response as a conversation,
the retrieved documents, and the assessments it already has.

Pure functions of a ``Trace``; the templates lay them out (autoescaped: trace content is
untrusted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.assessments.entities import Expectation, Feedback
from otelfeedback.server.content import Message, as_conversation
from otelfeedback.store.entities import Span, Trace

#: Texts longer than this are folded (the reviewer opens them).
FOLD_CHARS = 1200
MAX_DOCUMENTS = 50


@dataclass
class Document:
    text: str
    source: str | None = None
    extra: Any = None


@dataclass
class Retrieval:
    span_name: str
    query: str | None
    documents: list[Document] = field(default_factory=list)


@dataclass
class Exchange:
    """The trace's request and response (root span inputs and outputs)."""

    request: list[Message]
    response: list[Message]
    retrievals: list[Retrieval]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _messages(value: Any, role: str) -> list[Message]:
    """``value`` as chat messages: a chat stays one; a dict of one text is that text."""
    if value is None:
        return []
    chat = as_conversation(value)
    if chat:
        return chat
    if isinstance(value, dict) and len(value) == 1:
        (only,) = value.values()
        if isinstance(only, str):
            return [Message(role, only)]
    return [Message(role, _text(value))]


def _documents(outputs: Any) -> list[Document]:
    items = outputs if isinstance(outputs, list) else [outputs]
    found: list[Document] = []
    for item in items[:MAX_DOCUMENTS]:
        if isinstance(item, dict):
            text = item.get("page_content") or item.get("content") or item.get("text")
            raw = item.get("metadata")
            metadata: dict[str, Any] = raw if isinstance(raw, dict) else {}
            source = metadata.get("doc_uri") or metadata.get("source") or item.get("id")
            if isinstance(text, str):
                found.append(Document(text, str(source) if source is not None else None))
                continue
        if item is not None:
            found.append(Document(_text(item)))
    return found


def _query(span: Span) -> str | None:
    inputs = span.inputs
    if isinstance(inputs, dict) and len(inputs) == 1:
        (only,) = inputs.values()
        return only if isinstance(only, str) else None
    return inputs if isinstance(inputs, str) else None


def exchange(trace: Trace) -> Exchange:
    root = trace.root_span
    request = _messages(root.inputs, "user") if root else []
    response = _messages(root.outputs, "assistant") if root else []
    retrievals = [
        Retrieval(span.name, _query(span), _documents(span.outputs))
        for span in trace.spans
        if span.span_type == "RETRIEVER" and span.outputs is not None
    ]
    return Exchange(request, response, retrievals)


def visible_assessments(
    trace: Trace, session_id: str, reviewer: str
) -> list[Feedback | Expectation]:
    """The trace's current assessments a reviewer may see: not the labels of this session
    (other reviewers' would bias them; their own are in the form)."""
    return [
        a
        for a in trace.assessments
        if a.valid and (a.metadata or {}).get(sc.LABELING_SESSION_ID) != session_id
    ]


def exchange_dict(view: Exchange) -> dict[str, Any]:
    def messages(items: list[Message]) -> list[dict[str, Any]]:
        return [{"role": m.role, "text": m.text, "extra": m.extra} for m in items]

    return {
        "request": messages(view.request),
        "response": messages(view.response),
        "retrievals": [
            {
                "span_name": r.span_name,
                "query": r.query,
                "documents": [{"text": d.text, "source": d.source} for d in r.documents],
            }
            for r in view.retrievals
        ],
    }
