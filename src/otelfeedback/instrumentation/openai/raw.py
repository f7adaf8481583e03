"""``with_raw_response`` / ``with_streaming_response``: spans for raw HTTP responses.

A raw response whose body is already read (``with_raw_response`` without streaming) is
recorded at once from its JSON body. Otherwise the instance gets a ``parse`` that records
what it returns (or watches the stream it returns) and a ``close`` that ends the span; a raw
response dropped before either ends it on collection.
"""

from __future__ import annotations

import inspect
import json
import weakref
from typing import TYPE_CHECKING, Any

from openai import AsyncStream, Stream

from otelfeedback._internal.safety import log_internal_error
from otelfeedback.instrumentation.openai import streams

if TYPE_CHECKING:
    from otelfeedback.instrumentation.openai.call import Call

RAW_TYPES: tuple[type, ...]
try:  # private modules: tolerate their absence in other SDK versions
    from openai._legacy_response import LegacyAPIResponse
    from openai._response import BaseAPIResponse

    RAW_TYPES = (LegacyAPIResponse, BaseAPIResponse)
except ImportError:  # pragma: no cover - depends on the SDK version
    RAW_TYPES = ()

STREAM_TYPES = (Stream, AsyncStream)


def is_stream(value: Any) -> bool:
    return isinstance(value, STREAM_TYPES)


def _read_body(response: Any) -> Any:
    """The JSON body if the HTTP response has been read, else ``None``."""
    http = getattr(response, "http_response", None)
    try:
        content = http.content if http is not None else None
    except Exception:  # not read yet (httpx ResponseNotRead)
        return None
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def _parsed(result: Any, call: Call) -> None:
    try:
        if is_stream(result):
            if not call.ended and not streams.is_observed(result):
                call.watch_stream(result, isinstance(result, AsyncStream))
        else:
            call.finish_with(result)
    except Exception:
        log_internal_error("recording a parsed OpenAI raw response")


def observe(response: Any, call: Call, streaming: bool) -> None:
    """Record ``response`` now if its body is here, else when it is parsed or closed."""
    if not streaming:
        body = _read_body(response)
        if body is not None:
            call.finish_with(body)
            return
    ref = weakref.ref(response)  # the instance's methods must not keep it alive
    cls = type(response)
    parse = cls.parse
    if inspect.iscoroutinefunction(parse):

        async def aparse(*args: Any, **kwargs: Any) -> Any:
            result = await parse(ref(), *args, **kwargs)
            _parsed(result, call)
            return result

        response.parse = aparse
    else:

        def sparse(*args: Any, **kwargs: Any) -> Any:
            result = parse(ref(), *args, **kwargs)
            _parsed(result, call)
            return result

        response.parse = sparse

    close = getattr(cls, "close", None)
    if close is None:
        return

    def closed() -> None:
        if call.ended:
            return
        obj = ref()
        body = _read_body(obj) if obj is not None and not streaming else None
        if body is not None:
            call.finish_with(body)
        else:
            call.end_stream("closed")

    if inspect.iscoroutinefunction(close):

        async def aclose() -> None:
            try:
                await close(ref())
            finally:
                closed()

        response.close = aclose
    else:

        def sclose() -> None:
            try:
                close(ref())
            finally:
                closed()

        response.close = sclose
