"""The choke point: every OpenAI API call goes through the client's ``request`` method.

``request`` is wrapped once per client class (sync and async share ``_begin`` and the
``Call`` methods; only the ``await`` differs), ``_sleep_for_retry`` is wrapped to show
retries as they happen, and ``_process_response`` to keep the HTTP response (whose bytes
``input.value`` / ``output.value`` record). A call we do not trace, or cannot, runs the
original untouched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.trace import SpanKind

from otelfeedback import semconv as sc
from otelfeedback._internal.safety import log_internal_error
from otelfeedback.instrumentation.openai import endpoints, registry
from otelfeedback.instrumentation.openai.call import Call
from otelfeedback.instrumentation.openai.content import Content
from otelfeedback.tracing import _state
from otelfeedback.tracing.span import begin

_CURRENT: ContextVar[Call | None] = ContextVar("otelfeedback_openai_call", default=None)
_PROVIDERS: dict[tuple[type, bool], dict[str, str]] = {}  # per client class and profile
# The last base URL seen and its server.* attributes; the last content settings resolved.
_last_server: tuple[Any, dict[str, Any]] = (None, {})
_last_content: Content | None = None


def _provider(client: Any, full: bool) -> dict[str, str]:
    key = (type(client), full)
    found = _PROVIDERS.get(key)
    if found is None:
        azure = any("Azure" in c.__name__ for c in key[0].__mro__)
        found = {sc.GEN_AI_PROVIDER_NAME: "azure.ai.openai" if azure else "openai"}
        if full:
            found[sc.LLM_PROVIDER] = "azure" if azure else "openai"
            found[sc.LLM_SYSTEM] = "openai"
        _PROVIDERS[key] = found
    return found


def _server(client: Any) -> dict[str, Any]:
    global _last_server
    # The SDK keeps the URL in ``_base_url`` (its ``base_url`` property is a call away).
    url = getattr(client, "_base_url", None) or client.base_url
    last_url, attrs = _last_server
    if url is last_url:
        return attrs
    attrs = {}
    host = url.host
    if host:
        attrs[sc.SERVER_ADDRESS] = host
        attrs[sc.SERVER_PORT] = url.port or (443 if url.scheme == "https" else 80)
    _last_server = (url, attrs)
    return attrs


def _content(state: _state.TracingState) -> Content:
    global _last_content
    opts = registry.options
    capture = state.capture_content if opts.capture_content is None else opts.capture_content
    full = (opts.attributes or state.openai_attributes) == "full"
    last = _last_content
    if (
        last is not None
        and last.capture is capture
        and last.redact is opts.redact
        and last.max_length == state.max_value_length
        and last.full is full
    ):
        return last
    content = _last_content = Content(capture, opts.redact, state.max_value_length, full)
    return content


def _begin(client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
    """Start the span of a call we trace, with the request's attributes; ``None`` to pass
    the call through."""
    if not registry.enabled_for(client) or _CURRENT.get() is not None:
        return None
    parent = otel_context.get_current()
    if parent.get(_SUPPRESS_INSTRUMENTATION_KEY):
        return None
    try:
        options = args[1] if len(args) > 1 else kwargs["options"]
        endpoint = endpoints.lookup(options.method, options.url)
        if endpoint is None:
            return None
        body = options.json_data
        if type(body) is not dict and not isinstance(body, Mapping):
            body = {}
        extra = options.extra_json
        if extra and isinstance(extra, Mapping):
            body = {**body, **extra}
        state = _state.current()
        content = _content(state)
        # What a sampler may read goes to the SDK at the start (the conventions' list:
        # operation, provider, model, server; ``begin`` adds the session/user/tags), the
        # span type right after, the rest at the end.
        head: dict[str, Any] = {
            **_provider(client, content.full),
            sc.GEN_AI_OPERATION_NAME: endpoint.operation,
            **_server(client),
        }
        name = endpoint.operation
        model = body.get("model")
        if isinstance(model, str):
            head[sc.GEN_AI_REQUEST_MODEL] = model
            if content.full:
                head[sc.LLM_MODEL_NAME] = model
            name = f"{name} {model}"
        span, _, ctx = begin(
            state, name, head, False, endpoint.type_attributes, kind=SpanKind.CLIENT, parent=parent
        )
        # The request's attributes are recorded at the end with the response's (and
        # ``input.value`` from the bytes sent when there are some).
        span_context = span.get_span_context()
        ids = (span_context.trace_id, span_context.span_id)
        return Call(span, ids, ctx, endpoint, content, body, (state.tracer, state.quiet_end))
    except Exception:
        log_internal_error("starting an OpenAI span")
        return None


def request_sync(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    call = _begin(instance, args, kwargs)
    if call is None:
        return wrapped(*args, **kwargs)
    token = _CURRENT.set(call)
    scope = otel_context.attach(call.context)
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as exc:
        call.fail(exc)
        raise
    finally:
        otel_context.detach(scope)
        _CURRENT.reset(token)
    return call.succeed(result, bool(kwargs.get("stream")), False)


async def request_async(
    wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    call = _begin(instance, args, kwargs)
    if call is None:
        return await wrapped(*args, **kwargs)
    token = _CURRENT.set(call)
    scope = otel_context.attach(call.context)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        call.fail(exc)
        raise
    finally:
        otel_context.detach(scope)
        _CURRENT.reset(token)
    return call.succeed(result, bool(kwargs.get("stream")), True)


def _failed_attempt() -> str | None:
    exc = sys.exc_info()[1]  # the client retries from inside its ``except`` block
    return type(exc).__qualname__ if exc is not None else None


def retry_sync(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    call = _CURRENT.get()
    if call is None:
        return wrapped(*args, **kwargs)
    at, error = time.time_ns(), _failed_attempt()
    try:
        return wrapped(*args, **kwargs)
    finally:
        call.note_retry(kwargs, error, at)


async def retry_async(
    wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    call = _CURRENT.get()
    if call is None:
        return await wrapped(*args, **kwargs)
    at, error = time.time_ns(), _failed_attempt()
    try:
        return await wrapped(*args, **kwargs)
    finally:
        call.note_retry(kwargs, error, at)


def process_response_sync(
    wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    call = _CURRENT.get()
    if call is not None:  # the SDK passes the HTTP response as ``response=``
        call.note_response(kwargs.get("response"))
    return wrapped(*args, **kwargs)


async def process_response_async(
    wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    call = _CURRENT.get()
    if call is not None:
        call.note_response(kwargs.get("response"))
    return await wrapped(*args, **kwargs)
