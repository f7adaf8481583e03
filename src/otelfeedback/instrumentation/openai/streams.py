"""Streams: watch the chunks go by, rebuild the whole response, end the span at the end.

The caller keeps the very ``Stream`` / ``AsyncStream`` object the SDK returned. We swap its
internal chunk iterator for an observer that hands every chunk through unchanged, and give
the instance a ``close`` that ends the span too. The span ends when the stream is exhausted,
closed (also by leaving a ``with`` block), fails mid-way, or is garbage collected unfinished.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from otelfeedback._internal.safety import log_internal_error

if TYPE_CHECKING:
    from otelfeedback.instrumentation.openai.call import Call


class Accumulator(Protocol):
    def add(self, chunk: Any) -> None: ...

    def result(self) -> Any: ...


class _Choice:
    __slots__ = ("calls", "finish", "texts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish: str | None = None


class ChatAccumulator:
    """Rebuilds a chat completion from its chunks: text and tool-call argument fragments
    joined per choice, the last finish reason, and usage when a chunk carries it."""

    __slots__ = ("choices", "fingerprint", "id", "model", "tier", "usage")

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.fingerprint: str | None = None
        self.tier: str | None = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}

    def add(self, chunk: Any) -> None:
        if self.id is None:
            self.id = getattr(chunk, "id", None)
            self.model = getattr(chunk, "model", None)
            self.fingerprint = getattr(chunk, "system_fingerprint", None)
            self.tier = getattr(chunk, "service_tier", None)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        for choice in getattr(chunk, "choices", None) or ():
            state = self.choices.get(choice.index)
            if state is None:
                state = self.choices[choice.index] = _Choice()
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    state.texts.append(delta.content)
                for call in delta.tool_calls or ():
                    self._tool_call(state, call)
            if choice.finish_reason is not None:
                state.finish = choice.finish_reason

    @staticmethod
    def _tool_call(state: _Choice, call: Any) -> None:
        entry = state.calls.get(call.index)
        if entry is None:
            entry = state.calls[call.index] = {"id": None, "name": None, "arguments": []}
        if call.id:
            entry["id"] = call.id
        function = call.function
        if function is not None:
            if function.name:
                entry["name"] = function.name
            if function.arguments:
                entry["arguments"].append(function.arguments)

    def result(self) -> dict[str, Any]:
        choices = []
        for index in sorted(self.choices):
            state = self.choices[index]
            message: dict[str, Any] = {"role": "assistant", "content": "".join(state.texts)}
            if state.calls:
                message["tool_calls"] = [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": "".join(c["arguments"])},
                    }
                    for _, c in sorted(state.calls.items())
                ]
                if not state.texts:
                    message["content"] = None
            choices.append({"index": index, "message": message, "finish_reason": state.finish})
        out: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "model": self.model,
            "choices": choices,
        }
        if self.fingerprint is not None:
            out["system_fingerprint"] = self.fingerprint
        if self.tier is not None:
            out["service_tier"] = self.tier
        if self.usage is not None:
            out["usage"] = self.usage
        return out


class CompletionAccumulator(ChatAccumulator):
    """Rebuilds a legacy text completion from its chunks."""

    __slots__ = ()

    def add(self, chunk: Any) -> None:
        if self.id is None:
            self.id = getattr(chunk, "id", None)
            self.model = getattr(chunk, "model", None)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        for choice in getattr(chunk, "choices", None) or ():
            state = self.choices.get(choice.index)
            if state is None:
                state = self.choices[choice.index] = _Choice()
            if choice.text:
                state.texts.append(choice.text)
            if choice.finish_reason is not None:
                state.finish = choice.finish_reason

    def result(self) -> dict[str, Any]:
        out = super().result()
        out["object"] = "text_completion"
        out["choices"] = [
            {
                "index": c["index"],
                "text": c["message"]["content"],
                "finish_reason": c["finish_reason"],
            }
            for c in out["choices"]
        ]
        return out


_FINAL_EVENTS = frozenset(("response.completed", "response.incomplete", "response.failed"))


class ResponsesAccumulator:
    """Keeps the final response a Responses-API stream ends with; until it arrives, the
    text deltas (so an interrupted stream still shows what was said)."""

    __slots__ = ("final", "started", "texts")

    def __init__(self) -> None:
        self.final: Any = None
        self.started: Any = None
        self.texts: list[str] = []

    def add(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "response.output_text.delta":
            self.texts.append(event.delta)
        elif kind in _FINAL_EVENTS:
            self.final = event.response
        elif kind == "response.created":
            self.started = event.response

    def result(self) -> Any:
        if self.final is not None:
            return self.final
        started = self.started
        part = {"type": "output_text", "text": "".join(self.texts)}
        return {
            "id": getattr(started, "id", None),
            "model": getattr(started, "model", None),
            "status": "incomplete",
            "output": [{"type": "message", "role": "assistant", "content": [part]}],
        }


class _NoAccumulator:
    """Stands in after an accumulator failed: the stream goes on, unrecorded."""

    def add(self, chunk: Any) -> None:
        pass

    def result(self) -> Any:
        return None


def _failed(call: Call) -> None:
    """The accumulator raised: the stream goes on, unrecorded from here."""
    call.acc = _NoAccumulator()
    log_internal_error("accumulating an OpenAI stream")


class SyncObserver:
    """Hands each chunk through unchanged, noting it on the way."""

    __slots__ = ("_call", "_inner")

    def __init__(self, inner: Iterator[Any], call: Call) -> None:
        self._inner = inner
        self._call = call

    def __iter__(self) -> SyncObserver:
        return self

    def __next__(self) -> Any:
        call = self._call
        try:
            chunk = self._inner.__next__()
        except StopIteration:
            call.end_stream("exhausted")
            raise
        except BaseException as exc:
            call.end_stream("error", exc)
            raise
        if call.first_chunk_ns == 0:
            call.note_first_chunk()
        try:  # inline ``_add``: this runs for every chunk
            call.acc.add(chunk)
        except Exception:
            _failed(call)
        return chunk


class AsyncObserver:
    """The async twin of ``SyncObserver``."""

    __slots__ = ("_call", "_inner")

    def __init__(self, inner: AsyncIterator[Any], call: Call) -> None:
        self._inner = inner
        self._call = call

    def __aiter__(self) -> AsyncObserver:
        return self

    async def __anext__(self) -> Any:
        call = self._call
        try:
            chunk = await self._inner.__anext__()
        except StopAsyncIteration:
            call.end_stream("exhausted")
            raise
        except BaseException as exc:
            call.end_stream("error", exc)
            raise
        if call.first_chunk_ns == 0:
            call.note_first_chunk()
        try:
            call.acc.add(chunk)
        except Exception:
            _failed(call)
        return chunk


def is_observed(stream: Any) -> bool:
    return isinstance(getattr(stream, "_iterator", None), (SyncObserver, AsyncObserver))


def observe(stream: Any, call: Call, is_async: bool) -> bool:
    """Watch ``stream`` for ``call``; ``False`` when this stream cannot be watched."""
    inner = getattr(stream, "_iterator", None)
    if inner is None or is_observed(stream):
        return False
    ref = weakref.ref(stream)  # the instance's close must not keep the stream alive
    close = type(stream).close
    if is_async:
        stream._iterator = AsyncObserver(inner, call)

        async def aclose() -> None:
            try:
                obj = ref()
                if obj is not None:
                    await close(obj)
            finally:
                call.end_stream("closed")

        stream.close = aclose
    else:
        stream._iterator = SyncObserver(inner, call)

        def sclose() -> None:
            try:
                obj = ref()
                if obj is not None:
                    close(obj)
            finally:
                call.end_stream("closed")

        stream.close = sclose
    return True
