"""The value rule: what the codec does with a value OTLP cannot carry.

OTLP integers are signed 64-bit, its times unsigned 64-bit nanoseconds and its strings UTF-8.
Python allows more: integers of any size, and strings holding lone UTF-16 surrogates
(``"\\ud800"``, which no UTF-8 encoder accepts). One such value used to fail a whole export
batch, or stop a store's index for good. The same rule applies wherever a value leaves the
SDK (``encode.py``, and ``export/encodable.py`` before any exporter) or enters the index
(``decode.py`` and ``store/indexer.py``):

- an integer outside ``[-2**63, 2**63 - 1]`` becomes its exact decimal text (a string value:
  nothing is lost); past Python's 4,300-digit limit for decimal text, hexadecimal text
  (``"0x..."``). In an array, every integer then becomes text (OTel arrays hold one type);
- in a string, a surrogate pair written as two code points is joined into the character it
  encodes (as a JSON decoder would); any other surrogate becomes U+FFFD (``"\\ufffd"``);
- NaN and ±Infinity stay doubles (OTLP/JSON writes them ``"NaN"``, ``"Infinity"``,
  ``"-Infinity"``);
- a time is clamped to ``[0, high]`` (``2**64 - 1`` ns on the wire; the index stores at most
  ``2**63 - 1`` ns, in the year 2262).

Every function returns its argument itself when nothing needs changing, so checking costs
little and the common case allocates nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a UTF-16 surrogate code point (it cannot be UTF-8 encoded)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def safe_text(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD.

    >>> safe_text("a\\ud800b"), safe_text("\\ud83d\\ude00") == "\\U0001f600"
    ('a\\ufffdb', True)
    """
    if not has_surrogates(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def int_text(value: int) -> str:
    """The exact text of an integer: decimal, or hexadecimal past 4,300 digits."""
    try:
        return str(value)
    except ValueError:  # sys.get_int_max_str_digits()
        return hex(value)


def is_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


def clamp_time(value: int, high: int = UINT64_MAX) -> int:
    """A nanosecond time clamped to ``[0, high]``."""
    return 0 if value < 0 else (high if value > high else value)


def encodable(value: Any) -> Any:
    """An attribute value (or decoded JSON data) made encodable under the rule above.

    Integers outside 64 bits become text, strings lose their lone surrogates; lists,
    tuples and mappings are rebuilt only when an item changes (a tuple stays a tuple).
    Anything else (bools, floats, bytes, None) is returned as is.

    >>> encodable([1, 2**63])
    ['1', '9223372036854775808']
    """
    kind = type(value)
    if kind is str:
        return safe_text(value)
    if kind is int:
        return value if INT64_MIN <= value <= INT64_MAX else int_text(value)
    if kind is bool or kind is float or value is None:
        return value
    if isinstance(value, (list, tuple)):
        items = [encodable(item) for item in value]
        if all(new is old for new, old in zip(items, value)):
            return value
        if any(type(old) is int and type(new) is str for new, old in zip(items, value)):
            # OTel arrays are homogeneous: every integer of this one becomes text.
            items = [int_text(item) if type(item) is int else item for item in items]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, Mapping):
        pairs = [(encodable(k), encodable(v)) for k, v in value.items()]
        if all(k is old_k and v is old_v for (k, v), (old_k, old_v) in zip(pairs, value.items())):
            return value
        return dict(pairs)
    if isinstance(value, int):  # an int subclass (an IntEnum): its plain value
        return encodable(int(value))
    return value


#: Attribute keys already found fine (a span's keys come from a small vocabulary): checking
#: a known key is one set lookup in C. Bounded; cleared when full.
_FINE_KEYS: set[Any] = set()
_FINE_KEYS_MAX = 4096


def _fine_keys(attributes: Mapping[str, Any]) -> bool:
    if _FINE_KEYS.issuperset(attributes):
        return True
    if not _all_fine(attributes):
        return False
    if len(_FINE_KEYS) >= _FINE_KEYS_MAX:
        _FINE_KEYS.clear()
    _FINE_KEYS.update(attributes)
    return True


def _all_fine(values: Iterable[Any]) -> bool:
    """Whether OTLP carries every one of ``values`` as it is: the usual types checked
    inline, with no Python call per value (this runs for every attribute of every span an
    exporter gets), anything else by ``encodable``."""
    for value in values:
        kind = type(value)
        if kind is str:
            if value.isascii() or _SURROGATE.search(value) is None:  # isascii is O(1)
                continue
        elif kind is float or kind is bool:
            continue
        elif kind is int:
            if INT64_MIN <= value <= INT64_MAX:
                continue
        elif encodable(value) is value:
            continue
        return False
    return True


def safe_json(value: Any) -> Any:
    """Decoded JSON data with every string (and key) made UTF-8 encodable by ``safe_text``;
    numbers are left as they are (JSON text carries any integer exactly). For JSON that
    travels inside a string attribute (an assessment's value, metadata)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, list):
        items = [safe_json(item) for item in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    if isinstance(value, dict):
        pairs = [(safe_json(k), safe_json(v)) for k, v in value.items()]
        if all(k is ok and v is ov for (k, v), (ok, ov) in zip(pairs, value.items())):
            return value
        return dict(pairs)
    return value


def encodable_attributes(attributes: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """``attributes`` with keys and values made encodable; the same object when nothing
    changes (the usual case allocates nothing)."""
    if not attributes or (_fine_keys(attributes) and _all_fine(attributes.values())):
        return attributes
    return {encodable(key): encodable(value) for key, value in attributes.items()}


_TIME_KEYS = frozenset(
    {
        "startTimeUnixNano",
        "endTimeUnixNano",
        "timeUnixNano",
        "start_time_unix_nano",
        "end_time_unix_nano",
        "time_unix_nano",
    }
)
_INT_KEYS = ("intValue", "int_value")


def encodable_otlp_json(node: Any) -> Any:
    """Decoded OTLP/JSON made acceptable under the rule: strings lose lone surrogates, an
    ``intValue`` past 64 bits becomes a ``stringValue`` of its text, times are clamped to
    ``[0, 2**64 - 1]``. Parts that need nothing are shared, not copied."""
    if isinstance(node, str):
        return safe_text(node)
    if isinstance(node, list):
        items = [encodable_otlp_json(item) for item in node]
        return node if all(a is b for a, b in zip(items, node)) else items
    if not isinstance(node, dict):
        return node
    for key in _INT_KEYS:
        if key in node and len(node) == 1:
            number = _json_int(node[key])
            if number is not None and not is_int64(number):
                return {"stringValue": int_text(number)}
    out: dict[str, Any] = {}
    changed = False
    for key, value in node.items():
        new_key = safe_text(key) if isinstance(key, str) else key
        if key in _TIME_KEYS:
            number = _json_int(value)
            new_value = value if number is None else _clamped_text(value, number)
        else:
            new_value = encodable_otlp_json(value)
        changed = changed or new_key is not key or new_value is not value
        out[new_key] = new_value
    return out if changed else node


def _json_int(raw: Any) -> int | None:
    if type(raw) is int:
        return raw
    if type(raw) is str:
        try:
            return int(raw)
        except ValueError:
            return None
    return None


def _clamped_text(raw: Any, number: int) -> Any:
    clamped = clamp_time(number)
    return raw if clamped == number else str(clamped)


def double_json(value: float) -> float | str:
    """A double as OTLP/JSON writes it: non-finite values as ``"NaN"``, ``"Infinity"``,
    ``"-Infinity"`` (JSON has no literal for them)."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def finite_json(value: Any) -> Any:
    """JSON data with every NaN / ±Infinity replaced by its OTLP/JSON text, for writers that
    must produce strict JSON (a double attribute may legitimately be NaN)."""
    if type(value) is float:
        return double_json(value)
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value
