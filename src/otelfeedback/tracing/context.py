"""Session, user, tags and metadata that every span inside a block picks up.

They travel in the OpenTelemetry context (never in globals), so they follow threads started
with ``otelfeedback.propagate_context`` and asyncio tasks automatically.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api

from otelfeedback import semconv
from otelfeedback._internal.serialization import to_json
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.tracing import _state

_ATTRS_KEY = otel_context.create_key("otelfeedback-context-attributes")
_ROOT_KEY = otel_context.create_key("otelfeedback-local-root")

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ContextAttributes:
    """The session/user/tags/metadata in force, and the span attributes they make."""

    session_id: str | None = None
    user_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if self.session_id is not None:
            attrs[semconv.SESSION_ID] = self.session_id
            attrs[semconv.GEN_AI_CONVERSATION_ID] = self.session_id
        if self.user_id is not None:
            attrs[semconv.USER_ID] = self.user_id
        if self.tags:
            attrs[semconv.TAG_TAGS] = [f"{k}={v}" if v else k for k, v in self.tags.items()]
            attrs[semconv.TRACE_TAGS] = json.dumps(dict(self.tags), ensure_ascii=False)
        if self.metadata:
            attrs[semconv.METADATA] = to_json(dict(self.metadata))
        return attrs


class _Attached:
    __slots__ = ("attributes", "data")

    def __init__(self, data: ContextAttributes) -> None:
        self.data = data
        self.attributes: Mapping[str, Any] = MappingProxyType(data.attributes())


def context_attributes(ctx: otel_context.Context) -> Mapping[str, Any]:
    """Span attributes from the session/user/tags/metadata in force in ``ctx``."""
    attached = ctx.get(_ATTRS_KEY)
    return attached.attributes if isinstance(attached, _Attached) else _EMPTY


def _current_data() -> ContextAttributes:
    attached = otel_context.get_value(_ATTRS_KEY)
    return attached.data if isinstance(attached, _Attached) else ContextAttributes()


def normalize_tags(
    tags: Mapping[str, Any] | Sequence[str], argument: str = "tags"
) -> dict[str, str]:
    """Tags as a ``{key: value}`` dict; a plain string tag ``"k"`` is ``{"k": ""}`` and
    ``"k=v"`` is ``{"k": "v"}``."""
    if isinstance(tags, Mapping):
        out = {}
        for key, value in tags.items():
            if not isinstance(key, str) or not key:
                raise InvalidArgumentError(
                    argument, f"tag keys must be non-empty strings, got {key!r}"
                )
            out[key] = value if isinstance(value, str) else to_json(value)
        return out
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise InvalidArgumentError(
            argument, f"expected a dict or a list of strings, got {type(tags).__name__}"
        )
    out = {}
    for tag in tags:
        if not isinstance(tag, str) or not tag:
            raise InvalidArgumentError(argument, f"tags must be non-empty strings, got {tag!r}")
        key, _, value = tag.partition("=")
        out[key] = value
    return out


def _check_metadata(metadata: Any, argument: str = "metadata") -> dict[str, Any]:
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise InvalidArgumentError(argument, "expected a dict with string keys")
    return dict(metadata)


def _check_id(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(argument, f"expected a non-empty string, got {value!r}")
    return value


class _Using:
    """A ``with`` block and a decorator that puts context attributes in force."""

    def __init__(self, **changes: Any) -> None:
        self._changes = changes
        self._tokens: list[object] = []

    def _merged(self) -> ContextAttributes:
        data = _current_data()
        changes = dict(self._changes)
        if "tags" in changes:
            changes["tags"] = {**data.tags, **changes["tags"]}
        if "metadata" in changes:
            changes["metadata"] = {**data.metadata, **changes["metadata"]}
        return ContextAttributes(**{**data.__dict__, **changes})

    def __enter__(self) -> None:
        ctx = otel_context.set_value(_ATTRS_KEY, _Attached(self._merged()))
        self._tokens.append(otel_context.attach(ctx))

    def __exit__(self, *exc: object) -> None:
        otel_context.detach(self._tokens.pop())  # type: ignore[arg-type]

    def __call__(self, func: F) -> F:
        changes = self._changes
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with _Using(**changes):
                    return await func(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Using(**changes):
                return func(*args, **kwargs)

        return cast(F, wrapper)


def using_session(session_id: str) -> _Using:
    """Every span inside carries ``session.id`` (and ``gen_ai.conversation.id``).

    >>> with using_session("chat-42"):
    ...     pass
    """
    return _Using(session_id=_check_id(session_id, "session_id"))


def using_user(user_id: str) -> _Using:
    """Every span inside carries ``user.id``."""
    return _Using(user_id=_check_id(user_id, "user_id"))


def using_tags(tags: Mapping[str, Any] | Sequence[str]) -> _Using:
    """Every span inside carries these tags (merged with outer ones)."""
    return _Using(tags=normalize_tags(tags))


def using_metadata(metadata: Mapping[str, Any]) -> _Using:
    """Every span inside carries this metadata (merged with outer metadata)."""
    return _Using(metadata=_check_metadata(metadata))


class LocalRoot:
    """The outermost span of ours in the current trace, with its trace-level fields
    (built on first use: most traces never call ``update_current_trace``)."""

    __slots__ = ("_metadata", "_outer", "_tags", "span")

    def __init__(self, span: trace_api.Span, outer: ContextAttributes | None) -> None:
        self.span = span
        self._outer = outer  # the session/user/tags/metadata in force at the root
        self._tags: dict[str, str] | None = None
        self._metadata: dict[str, Any] | None = None

    @property
    def tags(self) -> dict[str, str]:
        if self._tags is None:
            self._tags = dict(self._outer.tags) if self._outer else {}
        return self._tags

    @property
    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            self._metadata = dict(self._outer.metadata) if self._outer else {}
        return self._metadata


def with_local_root(
    ctx: otel_context.Context,
    span: trace_api.Span,
    trace_id: int | None = None,
    span_id: int | None = None,
) -> otel_context.Context:
    """``ctx`` marked with ``span`` as the local root, unless one is already set (the root
    is also remembered per trace, for ``_state.find_local_root``). Hot path: it reads the
    context as the mapping it is."""
    if ctx.get(_ROOT_KEY) is not None:
        return ctx
    if trace_id is None or span_id is None:
        span_context = span.get_span_context()
        trace_id, span_id = span_context.trace_id, span_context.span_id
    _state.note_local_root(trace_id, span_id)
    attached = ctx.get(_ATTRS_KEY)
    root = LocalRoot(span, attached.data if isinstance(attached, _Attached) else None)
    return otel_context.set_value(_ROOT_KEY, root, ctx)


def update_current_trace(
    tags: Mapping[str, Any] | Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    request_preview: str | None = None,
    response_preview: str | None = None,
) -> None:
    """Set trace-level fields on the outermost span of ours in the current trace.

    Call it inside a traced function. Tags and metadata merge with what is set already.

    Raises:
        InvalidArgumentError: an argument has the wrong type.
    """
    attrs: dict[str, Any] = {}
    if session_id is not None:
        attrs[semconv.SESSION_ID] = _check_id(session_id, "session_id")
        attrs[semconv.GEN_AI_CONVERSATION_ID] = session_id
    if user_id is not None:
        attrs[semconv.USER_ID] = _check_id(user_id, "user_id")
    for key, value, arg in (
        (semconv.TRACE_REQUEST_PREVIEW, request_preview, "request_preview"),
        (semconv.TRACE_RESPONSE_PREVIEW, response_preview, "response_preview"),
    ):
        if value is not None:
            if not isinstance(value, str):
                raise InvalidArgumentError(arg, f"expected a string, got {type(value).__name__}")
            attrs[key] = value
    new_tags = normalize_tags(tags) if tags is not None else None
    new_metadata = _check_metadata(metadata) if metadata is not None else None

    root = otel_context.get_value(_ROOT_KEY)
    if isinstance(root, LocalRoot):
        target = root.span
        if new_tags:
            root.tags.update(new_tags)
            new_tags = root.tags
        if new_metadata:
            root.metadata.update(new_metadata)
            new_metadata = root.metadata
    else:
        target = trace_api.get_current_span()
    if not target.is_recording():
        return
    if new_tags:
        attrs[semconv.TAG_TAGS] = [f"{k}={v}" if v else k for k, v in new_tags.items()]
        attrs[semconv.TRACE_TAGS] = json.dumps(new_tags, ensure_ascii=False)
    if new_metadata:
        attrs[semconv.METADATA] = to_json(new_metadata)
    target.set_attributes(attrs)


def propagate_context(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap ``func`` so it runs in the caller's current context, wherever it is called.

    Threads do not inherit context; wrap the target to keep spans, session, user, tags and
    metadata flowing into a thread or a thread pool::

        pool.submit(propagate_context(retrieve), query)
    """
    ctx = contextvars.copy_context()

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.copy().run(func, *args, **kwargs)

    return wrapper
