"""The traces table's one-line previews: the conversation's last user message and the
answer, read at index time, not the first characters of the arguments' JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otelfeedback._internal.chat import as_conversation, request_preview, response_preview
from otelfeedback.store import FileStore
from tests.store.otlp_fixtures import append, io_attrs, line, sid, span, tid

LONG_SYSTEM = "You are a helpful assistant. " * 600  # ~17 KB


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {
                "messages": [
                    {"role": "system", "content": LONG_SYSTEM},
                    {"role": "user", "content": "first"},
                    {"role": "assistant", "content": "ok"},
                    {"role": "user", "content": [{"type": "text", "text": "second\nline"}]},
                ]
            },
            "second line",
        ),
        ({"question": "How do refunds work?"}, "How do refunds work?"),
        ({"query": "refunds", "k": 5}, "refunds"),
        ({"k": 5}, '{"k": 5}'),
        ("  plain\ttext  ", "plain text"),
    ],
)
def test_request_preview(value: object, expected: str) -> None:
    assert request_preview(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"choices": [{"message": {"role": "assistant", "content": "4"}}]}, "4"),
        (
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            "→ get_weather()",
        ),
        ({"answer": "42", "sources": ["a"]}, "42"),
        ("Refunds take 5 days", "Refunds take 5 days"),
    ],
)
def test_response_preview(value: object, expected: str) -> None:
    assert response_preview(value) == expected


def test_a_body_as_a_server_sent_it_reads_like_its_compact_json() -> None:
    """``output.value`` of an OpenAI span is the body received: indented, maybe after a
    newline. The conversation and the previews are the same as from compact JSON."""
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there"}}],
    }
    for text in (json.dumps(body, indent=2), "\n" + json.dumps(body, indent=2) + "\n"):
        assert as_conversation(text) == as_conversation(body)
        assert response_preview(text) == response_preview(body) == "Hi there"
    assert as_conversation("  not json {") is None


def test_tool_call_arguments_are_parsed() -> None:
    messages = as_conversation(
        [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": '{"a": 1}'}}],
            }
        ]
    )
    assert messages is not None
    assert messages[0].tool_calls[0].name == "f"
    assert messages[0].tool_calls[0].arguments == {"a": 1}


def test_the_index_stores_conversation_previews(tmp_path: Path) -> None:
    request = {
        "messages": [
            {"role": "system", "content": LONG_SYSTEM},
            {"role": "user", "content": "Where is my parcel?"},
        ]
    }
    append(
        tmp_path,
        line(
            [
                span(
                    tid(1),
                    sid(1),
                    "agent",
                    attrs=io_attrs("AGENT", request, {"answer": "In Lyon."}),
                )
            ]
        ),
    )
    info = FileStore(tmp_path).get_trace(tid(1)).info
    assert info.request_preview == "Where is my parcel?"
    assert info.response_preview == "In Lyon."
    assert json.dumps(request)[:10] not in (info.request_preview or "")
