"""Chat-completion, legacy-completion and Responses-API bodies of the fake OpenAI server:
one whole body for a plain call, a list of events for a stream."""

from __future__ import annotations

from typing import Any

from otelfeedback.testing._fake_openai_payloads import CREATED, Ids, Resolved


def _chat_usage(r: Resolved) -> dict[str, Any]:
    u = r.usage
    return {
        "prompt_tokens": u["prompt_tokens"],
        "completion_tokens": u["completion_tokens"],
        "total_tokens": u["prompt_tokens"] + u["completion_tokens"],
        "prompt_tokens_details": {"cached_tokens": u["cached_tokens"]},
        "completion_tokens_details": {"reasoning_tokens": u["reasoning_tokens"]},
    }


def _tool_call_json(r: Resolved) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "type": "function",
            "function": {"name": c.name, "arguments": c.arguments_json()},
        }
        for c in r.tool_calls
    ]


def chat_body(r: Resolved, body: dict[str, Any], ids: Ids) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": r.content, "refusal": r.refusal}
    if r.tool_calls:
        message["tool_calls"] = _tool_call_json(r)
    choices = [
        {"index": i, "message": message, "finish_reason": r.finish_reason, "logprobs": None}
        for i in range(int(body.get("n") or 1))
    ]
    return {
        "id": ids.next("chatcmpl-fake-"),
        "object": "chat.completion",
        "created": CREATED,
        "model": r.model,
        "choices": choices,
        "usage": _chat_usage(r),
        "system_fingerprint": "fp_fake",
        "service_tier": "default",
    }


def chat_chunks(r: Resolved, body: dict[str, Any], ids: Ids) -> list[dict[str, Any]]:
    cid = ids.next("chatcmpl-fake-")
    with_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": r.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if with_usage:
            out["usage"] = None
        return out

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": piece}) for piece in r.chunks]
    if r.refusal is not None:
        events.append(chunk({"refusal": r.refusal}))
    for i, call in enumerate(r.tool_calls):
        head = {"index": i, "id": call.id, "type": "function"}
        events.append(chunk({"tool_calls": [{**head, "function": {"name": call.name}}]}))
        args = call.arguments_json()
        step = max(1, len(args) // 3)
        for start in range(0, len(args), step):
            piece = args[start : start + step]
            events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
    events.append(chunk({}, r.finish_reason))
    if with_usage:
        last = chunk({})
        last["choices"] = []
        last["usage"] = _chat_usage(r)
        events.append(last)
    return events


def completion_body(r: Resolved, stream_piece: str | None, ids: Ids, cid: str = "") -> Any:
    text = (r.content or "") if stream_piece is None else stream_piece
    finish = r.finish_reason if stream_piece is None else None
    out: dict[str, Any] = {
        "id": cid or ids.next("cmpl-fake-"),
        "object": "text_completion",
        "created": CREATED,
        "model": r.model,
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
    }
    if stream_piece is None:
        u = r.usage
        out["usage"] = {
            "prompt_tokens": u["prompt_tokens"],
            "completion_tokens": u["completion_tokens"],
            "total_tokens": u["prompt_tokens"] + u["completion_tokens"],
        }
    return out


def completion_whole(r: Resolved, body: dict[str, Any], ids: Ids) -> dict[str, Any]:
    out: dict[str, Any] = completion_body(r, None, ids)
    return out


def completion_chunks(r: Resolved, body: dict[str, Any], ids: Ids) -> list[dict[str, Any]]:
    cid = ids.next("cmpl-fake-")
    events = [completion_body(r, piece, ids, cid) for piece in r.chunks]
    last = completion_body(r, "", ids, cid)
    last["choices"][0]["finish_reason"] = r.finish_reason
    events.append(last)
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = completion_body(r, None, ids, cid)
        usage["choices"] = []
        events.append(usage)
    return events


def _response_items(r: Resolved, ids: Ids) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if r.content is not None:
        part = {"type": "output_text", "text": r.content, "annotations": [], "logprobs": []}
        items.append(
            {
                "type": "message",
                "id": ids.next("msg_fake_"),
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
        )
    for call in r.tool_calls:
        items.append(
            {
                "type": "function_call",
                "id": ids.next("fc_fake_"),
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments_json(),
                "status": "completed",
            }
        )
    return items


def responses_body(
    r: Resolved, body: dict[str, Any], ids: Ids, rid: str = "", status: str = "completed"
) -> dict[str, Any]:
    u = r.usage
    done = status == "completed"
    incomplete = r.finish_reason not in ("stop", "tool_calls")
    return {
        "id": rid or ids.next("resp_fake_"),
        "object": "response",
        "created_at": CREATED,
        "status": ("incomplete" if incomplete else status) if done else status,
        "model": r.model,
        "output": _response_items(r, ids) if done else [],
        "instructions": body.get("instructions"),
        "incomplete_details": {"reason": r.finish_reason} if done and incomplete else None,
        "error": None,
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": True,
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "text": body.get("text") or {"format": {"type": "text"}},
        "usage": {
            "input_tokens": u["prompt_tokens"],
            "output_tokens": u["completion_tokens"],
            "total_tokens": u["prompt_tokens"] + u["completion_tokens"],
            "input_tokens_details": {"cached_tokens": u["cached_tokens"]},
            "output_tokens_details": {"reasoning_tokens": u["reasoning_tokens"]},
        }
        if done
        else None,
    }


def responses_events(r: Resolved, body: dict[str, Any], ids: Ids) -> list[dict[str, Any]]:
    rid = ids.next("resp_fake_")
    final = responses_body(r, body, ids, rid)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": responses_body(r, body, ids, rid, "in_progress")}
    ]
    for index, item in enumerate(final["output"]):
        started = {**item, "status": "in_progress"}
        if item["type"] == "message":
            started["content"] = []
        else:
            started["arguments"] = ""
        events.append(
            {"type": "response.output_item.added", "output_index": index, "item": started}
        )
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            part = item["content"][0]
            empty = {**part, "text": ""}
            events.append(
                {"type": "response.content_part.added", **where, "content_index": 0, "part": empty}
            )
            for piece in r.chunks:
                events.append(
                    {
                        "type": "response.output_text.delta",
                        **where,
                        "content_index": 0,
                        "delta": piece,
                        "logprobs": [],
                    }
                )
            events.append(
                {
                    "type": "response.output_text.done",
                    **where,
                    "content_index": 0,
                    "text": part["text"],
                    "logprobs": [],
                }
            )
            events.append(
                {"type": "response.content_part.done", **where, "content_index": 0, "part": part}
            )
        else:
            events.append(
                {
                    "type": "response.function_call_arguments.delta",
                    **where,
                    "delta": item["arguments"],
                }
            )
            events.append(
                {
                    "type": "response.function_call_arguments.done",
                    **where,
                    "name": item["name"],
                    "arguments": item["arguments"],
                }
            )
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
    events.append({"type": kind, "response": final})
    for n, event in enumerate(events):
        event["sequence_number"] = n
    return events
