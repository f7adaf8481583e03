"""``instrument_openai`` / ``uninstrument_openai``: install and remove the wrappers.

Idempotent both ways: instrumenting twice wraps once; uninstrumenting restores the SDK's
own methods (or, if another library wrapped them after us, leaves our wrapper in place as a
pure pass-through). Nothing is patched until ``instrument_openai`` is called.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from otelfeedback.config import parse_openai_attributes
from otelfeedback.errors import ConfigurationError, MissingExtraError
from otelfeedback.instrumentation.openai import registry
from otelfeedback.instrumentation.openai.content import Redactor

logger = logging.getLogger("otelfeedback")

SUPPORTED_VERSIONS = ">=1.109,<4"
"""The ``openai`` versions this instrumentation supports (the ``openai`` extra's range)."""
_MIN = (1, 109)
_MAX_MAJOR = 3

_lock = threading.RLock()
_installed: dict[tuple[type, str], tuple[Any, Any]] = {}  # -> (our wrapper, original)
_warned_version = False

# (class in openai._base_client, method, wrapper function name in our wrapper module)
_TARGETS = (
    ("SyncAPIClient", "request", "request_sync"),
    ("AsyncAPIClient", "request", "request_async"),
    ("SyncAPIClient", "_sleep_for_retry", "retry_sync"),
    ("AsyncAPIClient", "_sleep_for_retry", "retry_async"),
    ("SyncAPIClient", "_process_response", "process_response_sync"),
    ("AsyncAPIClient", "_process_response", "process_response_async"),
)


def _import_openai() -> Any:
    try:
        return importlib.import_module("openai")
    except ImportError:
        raise MissingExtraError("openai", "OpenAI instrumentation") from None


def _check_version(version: str) -> None:
    global _warned_version
    try:
        parts = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        return
    if (parts < _MIN or parts[0] > _MAX_MAJOR) and not _warned_version:
        _warned_version = True
        logger.warning(
            "otelfeedback: openai %s is outside the supported range %s; tracing may be "
            "incomplete (calls are never affected)",
            version,
            SUPPORTED_VERSIONS,
        )


def _method(original: Any, hook: Callable[..., Any]) -> Callable[..., Any]:
    """``original`` (what the class's dict holds: a function, or another library's
    wrapper) as a method whose every call goes to ``hook(bound original, instance, args,
    kwargs)``; ``functools.wraps`` keeps its name, docstring and signature
    (``__wrapped__``). A coroutine function stays one.

    A plain function, not wrapt's ``FunctionWrapper``: binding and calling one of those
    cost about 17,000 CPU instructions per call, and the client calls two of these methods
    per request (docs/architecture.md)."""
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def method_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            return await hook(original.__get__(self, type(self)), self, args, kwargs)

        return method_async

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return hook(original.__get__(self, type(self)), self, args, kwargs)

    return method


def _patch() -> None:
    openai = _import_openai()
    _check_version(str(getattr(openai, "__version__", "0")))
    base = importlib.import_module("openai._base_client")
    wrapper = importlib.import_module("otelfeedback.instrumentation.openai.wrapper")
    for cls_name, method, fn_name in _TARGETS:
        cls = getattr(base, cls_name)
        if (cls, method) in _installed or method not in cls.__dict__:
            continue
        original = cls.__dict__[method]
        wrapped = _method(original, getattr(wrapper, fn_name))
        setattr(cls, method, wrapped)
        _installed[(cls, method)] = (wrapped, original)


def _unpatch() -> None:
    for (cls, method), (wrapped, original) in list(_installed.items()):
        if cls.__dict__.get(method) is wrapped:
            setattr(cls, method, original)
        # else: wrapped again by someone else; ours stays as a pass-through
        del _installed[(cls, method)]


def _update() -> None:
    if registry.active():
        _patch()
    else:
        _unpatch()


class OpenAIInstrumentation:
    """What ``instrument_openai`` returns: ``undo()`` reverses that call (also as a context
    manager: ``with otelfeedback.instrument_openai(client): ...``)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    def undo(self) -> None:
        """Stop tracing what this call instrumented (all clients, or the one client)."""
        with _lock:
            if self._client is None:
                registry.everything = False
            else:
                registry.clients.discard(registry.client_key(self._client))
            _update()

    def __enter__(self) -> OpenAIInstrumentation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.undo()


def instrument_openai(
    client: Any = None,
    *,
    capture_content: bool | None = None,
    redact: Redactor | None = None,
    attributes: str | None = None,
) -> OpenAIInstrumentation:
    """Trace OpenAI API calls: of every ``OpenAI`` / ``AsyncOpenAI`` client (including
    Azure and OpenAI-compatible servers), or of one ``client`` and its ``with_options``
    copies. Idempotent.

    Example::

        otelfeedback.instrument_openai()
        client = openai.OpenAI()
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])  # a span

    Args:
        client: instrument only this client (default: all).
        capture_content: record prompts and completions; default: the ``capture_content``
            setting of ``otelfeedback.configure()`` (on unless turned off).
        redact: a function ``text -> text`` applied to every recorded prompt, completion,
            tool argument and request/response JSON.
        attributes: the attribute profile of these spans, ``"lean"`` or ``"full"``;
            default: the ``openai_attributes`` setting of ``otelfeedback.configure()``
            (``lean`` unless set). See docs/openai.md.

    Returns:
        A handle whose ``undo()`` reverses this call.

    Raises:
        MissingExtraError: ``openai`` is not installed (``pip install 'otelfeedback[openai]'``).
        ConfigurationError: ``attributes`` is neither ``"lean"`` nor ``"full"``.
    """
    profile = _profile(attributes)
    _import_openai()
    with _lock:
        if capture_content is not None or redact is not None or profile is not None:
            registry.options = registry.Options(capture_content, redact, profile)
        if client is None:
            registry.everything = True
        else:
            registry.clients.add(registry.client_key(client))
        _patch()
    return OpenAIInstrumentation(client)


def _profile(attributes: Any) -> str | None:
    if attributes is None:
        return None
    try:
        if not isinstance(attributes, str):
            raise ValueError("expected 'lean' or 'full'")
        return parse_openai_attributes(attributes)
    except ValueError as exc:
        raise ConfigurationError(f"attributes={attributes!r}: {exc}") from None


def uninstrument_openai() -> None:
    """Stop tracing OpenAI calls: every client, and restore the SDK's methods."""
    with _lock:
        registry.everything = False
        registry.clients.clear()
        registry.options = registry.Options()
        _unpatch()
