"""What a span records: message content on or off, redacted, cut to size; and which
attribute profile (``lean`` or ``full``, see docs/openai.md).

One ``Content`` is resolved per call from the instrumentation options and the active
configuration, and handed to the request and response extractors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from otelfeedback import semconv
from otelfeedback._internal.serialization import to_json, truncate

Redactor = Callable[[str], str]
"""A redaction hook: gets every captured text (message contents, tool arguments, and the
JSON of the request and response) and returns what to record instead."""


@dataclass(frozen=True)
class Content:
    """Whether content is captured, the redaction hook, the size cap per value, and whether
    the ``full`` attribute profile is in force (else ``lean``)."""

    capture: bool
    redact: Redactor | None = None
    max_length: int = 65536
    full: bool = False

    def text(self, value: str) -> str:
        """``value`` redacted and cut to the size cap."""
        if self.redact is not None:
            value = self.redact(value)
        elif len(value) <= self.max_length:  # hot path: short and not redacted
            return value
        return truncate(value, self.max_length)[0]

    def add_io(self, attrs: dict[str, Any], which: str, value: Any) -> None:
        """Add to ``attrs`` the ``input.*`` or ``output.*`` (``which``) attributes holding
        ``value`` (JSON text as it is, anything else as our JSON); a value cut to the size
        cap is listed in ``otelfeedback.truncated``, after any listed already."""
        text = value if isinstance(value, str) else dump_json(value)
        if self.redact is not None:
            text = self.redact(text)
        value_key, mime_key = (
            (semconv.INPUT_VALUE, semconv.INPUT_MIME_TYPE)
            if which == "input"
            else (semconv.OUTPUT_VALUE, semconv.OUTPUT_MIME_TYPE)
        )
        if len(text) <= self.max_length or self.max_length <= 0:  # (0: no cap)
            attrs[value_key], attrs[mime_key] = text, semconv.MIME_JSON
            return
        attrs[value_key] = truncate(text, self.max_length)[0]
        attrs[mime_key] = semconv.MIME_TEXT
        attrs[semconv.TRUNCATED] = [*attrs.get(semconv.TRUNCATED, ()), value_key]


def dump_json(value: Any) -> str:
    """JSON of a request body, an OpenAI response model, or a plain value: what
    ``input.value`` / ``output.value`` record when the body's own bytes are not at hand
    (see ``wire.body_text``), and a stream's rebuilt response.

    Response models are dumped with only the fields the server sent (close to the wire
    body, and faster than a full ``model_dump``)."""
    # pydantic's own serializer, called directly: what ``model_dump_json`` calls, without
    # its Python layer of keyword arguments.
    serializer = getattr(value, "__pydantic_serializer__", None)
    if serializer is not None and not isinstance(value, type):
        try:
            return str(serializer.to_json(value, exclude_unset=True, warnings=False), "utf-8")
        except Exception:  # an exotic field pydantic cannot dump: fall back to our encoder
            pass
    return to_json(value)


def get(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for a mapping, else ``obj.key``; ``default`` when missing or ``None``.

    Hot path: response models are pydantic models, whose fields live in ``__dict__`` and
    whose extra fields live in ``__pydantic_extra__``; reading those directly avoids
    pydantic's slow ``__getattr__`` for a field that is absent."""
    if isinstance(obj, dict):
        value = obj.get(key)
    else:
        fields = getattr(obj, "__dict__", None)
        if fields is not None and key in fields:
            value = fields[key]
        elif hasattr(type(obj), "__pydantic_extra__"):
            extra = obj.__pydantic_extra__
            value = extra.get(key) if extra else None
        elif isinstance(obj, Mapping):
            value = obj.get(key)
        else:
            value = getattr(obj, key, None)
    return default if value is None else value


class Fields(Protocol):
    """What ``fields`` returns: ``.get(key, default)`` with the meaning of ``get``."""

    def get(self, key: str, default: Any = None, /) -> Any: ...


class _Other:
    """``get`` on an object that is neither a dict nor a pydantic model."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def get(self, key: str, default: Any = None, /) -> Any:
        return get(self.obj, key, default)


def fields(obj: Any) -> Fields:
    """The fields of ``obj`` (JSON data or a response model) to read several of them:
    ``fields(obj).get(key)`` is ``get(obj, key)`` (for a default, ``.get(key) or default``,
    since a field can be ``None``). Hot path: for a dict or a pydantic model it is a plain
    dict, whose ``get`` is no Python call."""
    if type(obj) is dict:
        return obj
    if hasattr(type(obj), "__pydantic_extra__"):
        own: dict[str, Any] = obj.__dict__
        extra = obj.__pydantic_extra__
        return {**extra, **own} if extra else own
    return _Other(obj)
