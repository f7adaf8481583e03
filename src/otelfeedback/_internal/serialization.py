"""Safe JSON serialization of anything a traced function takes or returns.

``to_json`` never raises: plain JSON types take the fast path (``json.dumps``); dataclasses,
pydantic models, enums, datetimes, bytes, sets, numpy scalars and arrays get their natural JSON
form; anything else becomes a readable placeholder ``"<ClassName object>"``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import json.encoder
import math
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

_MAX_DEPTH = 32


def _placeholder(value: Any) -> str:
    return f"<{type(value).__qualname__} object>"


def _default(value: Any) -> Any:
    """``json.dumps`` hook: the JSON form of a non-JSON value (never raises)."""
    try:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, datetime.timedelta):
            return value.total_seconds()
        if isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return "base64:" + base64.b64encode(raw).decode("ascii")
        if isinstance(value, (set, frozenset)):
            items = list(value)
            try:
                items.sort()
            except TypeError:
                pass
            return items
        if isinstance(value, (uuid.UUID, PurePath, Decimal)):
            return str(value)
        if isinstance(value, (tuple, list)):
            return list(value)
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
        dump = getattr(value, "model_dump", None)  # pydantic v2
        if callable(dump) and not isinstance(value, type):
            return dump(mode="json")
        to_list = getattr(value, "tolist", None)  # numpy scalars and arrays
        if callable(to_list) and type(value).__module__.startswith("numpy"):
            return to_list()
        as_dict = getattr(value, "dict", None)  # pydantic v1
        if callable(as_dict) and hasattr(value, "__fields__"):
            return as_dict()
    except Exception:  # a broken __getattr__ or property: fall through to the placeholder
        pass
    return _placeholder(value)


def _sanitize(value: Any, depth: int, seen: set[int]) -> Any:
    """Slow path: rebuild ``value`` as plain JSON data (str keys, finite floats, no cycles)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= _MAX_DEPTH:
        return "<max depth>"
    ident = id(value)
    if ident in seen:
        return "<circular reference>"
    seen.add(ident)
    try:
        if isinstance(value, Mapping):
            return {str(k): _sanitize(v, depth + 1, seen) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_sanitize(v, depth + 1, seen) for v in value]
        converted = _default(value)
        if isinstance(converted, str) or converted is value:
            return converted
        return _sanitize(converted, depth + 1, seen)
    finally:
        seen.discard(ident)


# One encoder for every call: ``json.dumps`` with options builds a new encoder each time.
# Encoders keep no state between calls, so sharing one across threads is safe.
_ENCODER = json.JSONEncoder(default=_default, ensure_ascii=False, allow_nan=False)
# Hot path: the C encoder itself, made once, without the circular-reference check (a cycle
# ends in RecursionError and takes the slow path, which names it); half the cost of
# ``_ENCODER.encode`` for a small document, which builds a C encoder and a marker dict per
# call. ``None`` on an interpreter without the C accelerator.
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = (
    None
    if _make_c_encoder is None
    else _make_c_encoder(
        None, _default, json.encoder.encode_basestring, None, ": ", ", ", False, False, False
    )
)


def to_json(value: Any) -> str:
    """Serialize ``value`` to a JSON string; never raises.

    >>> to_json({"q": "hi", "k": 3})
    '{"q": "hi", "k": 3}'
    """
    try:
        if _C_ENCODE is not None:
            return "".join(_C_ENCODE(value, 0))
        return _ENCODER.encode(value)
    except Exception:  # non-str keys, cycles, NaN, a failing hook: take the slow path
        try:
            return json.dumps(_sanitize(value, 0, set()), ensure_ascii=False)
        except Exception:
            return json.dumps(_placeholder(value))


TRUNCATION_MARKER = "…[truncated {omitted} chars]"


def truncate(text: str, max_length: int) -> tuple[str, bool]:
    """Cut ``text`` to ``max_length`` characters plus an explicit marker saying how many
    were dropped. Returns the text and whether it was cut. ``max_length`` 0 means no cap."""
    if max_length <= 0 or len(text) <= max_length:
        return text, False
    return text[:max_length] + TRUNCATION_MARKER.format(omitted=len(text) - max_length), True
