"""Response bodies and stream events of the fake OpenAI server (``fake_openai``).

Pure functions from a request body and a scripted reply to JSON-ready dicts, one family per
endpoint: chat completions, responses, legacy completions and embeddings. Ids count up per
server and ``created`` is a fixed timestamp, so replies are deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CREATED = 1_700_000_000
"""The ``created`` timestamp of every fake reply."""


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake model makes: a function name and its arguments."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), ensure_ascii=False)


@dataclass(frozen=True)
class Reply:
    """What the fake model answers to one request.

    Args:
        content: the text; ``None`` means the default (the ``chunks`` joined, an echo of
            the request, or a value that fits a requested JSON schema).
        tool_calls: tool calls to make instead of (or beside) the text.
        finish_reason: default ``tool_calls`` when there are tool calls, else ``stop``.
        model: the response's model; default the request's.
        usage: token counts to report: any of ``prompt_tokens``, ``completion_tokens``,
            ``cached_tokens``, ``reasoning_tokens`` (default: counted in words).
        chunks: the pieces a stream sends; default the content split after each word.
        delay: seconds to wait before answering (for timeouts).
        chunk_delay: seconds to wait between stream chunks.
        error_after_chunks: in a stream, send an error event after this many chunks.
        refusal: (chat) the model refuses: this text goes in the message's ``refusal``
            and the content is null.
    """

    content: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    finish_reason: str | None = None
    model: str | None = None
    usage: Mapping[str, int] | None = None
    chunks: Sequence[str] | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    error_after_chunks: int | None = None
    refusal: str | None = None


class Ids:
    """Deterministic ids: ``chatcmpl-fake-1``, ``call_fake_2``..."""

    def __init__(self) -> None:
        self._n = 0

    def next(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"


def _words(text: str) -> int:
    return max(1, len(text.split()))


def _text_of(content: Any) -> str:
    """The text of a message content: a string, or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def prompt_text(path_kind: str, body: Mapping[str, Any]) -> tuple[str, str]:
    """``(all input text, the text to echo)`` of a request."""
    if path_kind == "chat":
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        texts = [_text_of(m.get("content")) for m in messages]
        users = [_text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        return " ".join(texts), (users[-1] if users else (texts[-1] if texts else ""))
    if path_kind == "responses":
        items = body.get("input")
        if isinstance(items, str):
            return f"{body.get('instructions') or ''} {items}", items
        texts = [_text_of(i.get("content")) for i in items or [] if isinstance(i, dict)]
        return " ".join([str(body.get("instructions") or ""), *texts]), (texts[-1] if texts else "")
    prompt = body.get("prompt")
    text = prompt if isinstance(prompt, str) else " ".join(str(p) for p in prompt or [])
    return text, text


def sample_from_schema(schema: Any, depth: int = 0) -> Any:
    """A small value that satisfies a JSON schema (for default structured-output replies)."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return sample_from_schema(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: sample_from_schema(v, depth + 1) for k, v in props.items()}
    defaults = {"string": "fake", "integer": 0, "number": 0.0, "boolean": False, "array": []}
    return defaults.get(str(kind))


def default_content(path_kind: str, body: Mapping[str, Any]) -> str:
    """The default reply text: JSON for a requested schema, else an echo of the request."""
    fmt = body.get("response_format") or (body.get("text") or {}).get("format")
    if isinstance(fmt, dict):
        if fmt.get("type") == "json_schema":
            schema = fmt.get("json_schema", fmt).get("schema") or {}
            return json.dumps(sample_from_schema(schema))
        if fmt.get("type") == "json_object":
            return "{}"
    _, echo = prompt_text(path_kind, body)
    return f"Fake reply to: {echo[:200]}"


def default_tool_calls(body: Mapping[str, Any]) -> list[ToolCall]:
    """Call the first tool (or the named one) when the request requires a tool call."""
    choice = body.get("tool_choice")
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    if not tools or not (choice == "required" or isinstance(choice, dict)):
        return []
    wanted = None
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name") or choice.get("name")
    for tool in tools:
        fn = tool.get("function", tool)
        if wanted is None or fn.get("name") == wanted:
            args = sample_from_schema(fn.get("parameters") or {}) or {}
            return [ToolCall(str(fn.get("name")), args)]
    return []


@dataclass
class Resolved:
    """A reply with every default filled in for one request."""

    content: str | None
    tool_calls: list[ToolCall]
    finish_reason: str
    model: str
    usage: dict[str, int]
    chunks: list[str]
    refusal: str | None = None


def resolve(reply: Reply, path_kind: str, body: Mapping[str, Any], ids: Ids) -> Resolved:
    tool_calls = list(reply.tool_calls) or (
        default_tool_calls(body) if reply.content is None else []
    )
    content = reply.content
    if content is None and reply.chunks is not None and not tool_calls:
        content = "".join(reply.chunks)
    if content is None and not tool_calls and reply.refusal is None:
        content = default_content(path_kind, body)
    calls = [
        t if t.id else ToolCall(t.name, t.arguments, ids.next("call_fake_")) for t in tool_calls
    ]
    finish = reply.finish_reason or ("tool_calls" if calls else "stop")
    all_input, _ = prompt_text(path_kind, body)
    out_text = (content or "") + "".join(c.name + c.arguments_json() for c in calls)
    usage = {
        "prompt_tokens": _words(all_input),
        "completion_tokens": _words(out_text),
        "cached_tokens": 0,
        "reasoning_tokens": 0,
    }
    usage.update(reply.usage or {})
    if reply.chunks is not None:
        chunks = list(reply.chunks)
    else:
        chunks = [w + " " for w in (content or "").split(" ")]
        if chunks:
            chunks[-1] = chunks[-1][:-1]
    model = reply.model or str(body.get("model") or "fake-model")
    return Resolved(content, calls, finish, model, usage, [c for c in chunks if c], reply.refusal)


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [round(v / norm, 6) for v in raw]


def embeddings_body(body: Mapping[str, Any], model: str | None) -> dict[str, Any]:
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
    dims = int(body.get("dimensions") or 8)
    data = []
    for i, item in enumerate(texts):
        vec = embedding_vector(str(item), dims)
        encoded: Any = vec
        if body.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode("ascii")
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    tokens = sum(_words(str(t)) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": model or body.get("model") or "fake-embedding",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def error_body(status: int, message: str) -> dict[str, Any]:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error"}
    kind = "rate_limit_error" if status == 429 else kinds.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def sse(events: Iterator[dict[str, Any]], done: bool) -> Iterator[bytes]:
    """Server-sent-event frames for ``events`` (plus ``[DONE]`` when ``done``)."""
    for event in events:
        name = event.get("type")
        head = f"event: {name}\n" if isinstance(name, str) and "." in name else ""
        yield f"{head}data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
    if done:
        yield b"data: [DONE]\n\n"
