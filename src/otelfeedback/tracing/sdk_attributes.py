"""Attributes this package built, added to an SDK span without the SDK's per-value pass.

``Span.set_attributes`` runs every value through the SDK's recursive cleaning (about 6,000
instructions an attribute, more than building it) to turn whatever a caller passes into a
valid attribute value. The OpenAI instrumentation's values are valid by construction (a
``str``, ``int``, ``float``, ``bool`` or a tuple of ``str``), so ``add_attributes`` checks
their types in one loop and adds them to the span's attribute dict directly, under the span's
lock, with the SDK's own rules: a key set again moves to the end, nothing is added to an ended
span. Whenever the fast path could differ from ``set_attributes`` it is not taken: another
``Span`` class or attribute container, a value length limit in force, the count limit
reached, a value of another type, an ended span (``set_attributes`` logs its warning).

``complete_attributes`` does the same for a span that has ended and that only our span
processors hold (its completion, ``tracing/completion.py``), with the SDK's attribute
container's own rules whenever the fast path could differ. ``start_sdk_span`` starts a span
with its attributes given to the SDK, or added right after when nothing can read them at the
start (``processors_are``: the tracer still has the processors found to be ours).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.trace import Span, SpanKind, Tracer

_SCALARS = frozenset((str, int, float, bool))
_STR = frozenset((str,))
_SCALARS_AND_TUPLES = _SCALARS | {tuple}
_SCALARS_AND_ARRAYS = _SCALARS | {list, tuple}


def _plain(attributes: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``attributes`` as the SDK would store them (list values as tuples), or ``None`` if
    a key or a value is not plain. The common case (every value a scalar) is checked in C:
    ``map`` and ``set`` make no Python call per value; tuples of strings (what we record
    arrays as) need one pass over the values, lists a copy."""
    if not _STR.issuperset(map(type, attributes)) or "" in attributes:
        return None
    values = attributes.values()
    kinds = set(map(type, values))
    if kinds <= _SCALARS:
        return attributes
    if kinds <= _SCALARS_AND_TUPLES:  # tuples are stored as they are: check their items
        if all(_STR.issuperset(map(type, v)) for v in values if type(v) is tuple):
            return attributes
        return None
    if not kinds <= _SCALARS_AND_ARRAYS:
        return None
    plain = dict(attributes)
    for key, value in attributes.items():
        if type(value) in _SCALARS:
            continue
        if not _STR.issuperset(map(type, value)):
            return None
        plain[key] = tuple(value)
    return plain


def add_attributes(span: Span, attributes: Mapping[str, Any]) -> None:
    """``span.set_attributes(attributes)``, faster for plain values on an SDK span.

    Args:
        span: a span; the fast path applies to the SDK's (``opentelemetry.sdk.trace``).
        attributes: plain values (``str``, ``int``, ``float``, ``bool``, a list or tuple
            of ``str``, stored as a tuple like the SDK does) under non-empty string keys
            take the fast path; anything else goes through ``set_attributes``.
    """
    bounded: Any = getattr(span, "_attributes", None)
    lock: Any = getattr(span, "_lock", None)
    found: Any = getattr(bounded, "_dict", None)
    # Any field missing or of another shape (another SDK version): the SDK's own path.
    plain = (
        None
        if type(bounded) is not BoundedAttributes
        or lock is None
        or type(found) is not dict
        or getattr(bounded, "max_value_len", 0) is not None
        or getattr(bounded, "_immutable", True) is not False
        else _plain(attributes)
    )
    if plain is None:
        span.set_attributes(attributes)
        return
    with lock:
        if getattr(span, "_end_time", None) is None and (
            bounded.maxlen is None or len(found) + len(plain) <= bounded.maxlen
        ):
            _merge(found, plain)
            return
    span.set_attributes(attributes)  # ended or full: the SDK warns, or drops the oldest


def _merge(found: dict[str, Any], plain: Mapping[str, Any]) -> None:
    """Add ``plain`` to the attribute dict ``found`` as the SDK does: a key set again moves
    to the end."""
    if not found.keys().isdisjoint(plain):
        for key in plain:
            found.pop(key, None)
    found.update(plain)


def complete_attributes(span: Any, attributes: Mapping[str, Any]) -> None:
    """Add ``attributes`` to a finished SDK span that only our span processors hold (a
    span's completion, ``tracing/completion.py``): what ``set_attributes`` would have done
    just before it ended.

    Plain values within the count limit go straight into the span's attribute dict, as in
    ``add_attributes``; anything else goes key by key through the SDK's own attribute
    container (its value cleaning and length limit; past the count limit the oldest
    attribute is dropped and counted).

    Raises:
        TypeError: ``span`` does not hold the SDK's attribute container.
    """
    bounded: Any = getattr(span, "_attributes", None)
    if type(bounded) is not BoundedAttributes:
        raise TypeError(f"not a finished SDK span: {type(span).__name__}")
    found: Any = getattr(bounded, "_dict", None)
    plain = (
        _plain(attributes)
        if type(found) is dict and getattr(bounded, "max_value_len", 0) is None
        else None
    )
    if plain is not None and (bounded.maxlen is None or len(found) + len(plain) <= bounded.maxlen):
        _merge(found, plain)
        return
    immutable = bounded._immutable  # (set when the span ended)
    bounded._immutable = False
    try:
        for key, value in attributes.items():
            bounded[key] = value
    finally:
        bounded._immutable = immutable


def processors_are(tracer: Tracer, processors: object) -> bool:
    """Whether the SDK ``tracer`` has exactly the span processors ``processors`` (the
    SDK's tuple of them, compared by identity: adding a processor makes a new tuple);
    ``False`` for ``None`` or another kind of tracer."""
    found = getattr(getattr(tracer, "span_processor", None), "_span_processors", None)
    return processors is not None and found is processors


def start_sdk_span(
    tracer: Tracer,
    name: str,
    parent: otel_context.Context,
    attributes: Mapping[str, Any],
    later: Mapping[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    quiet: object = None,
) -> Span:
    """``tracer.start_span(name, context=parent, kind=kind, attributes=attributes)``, then
    ``add_attributes(span, later)``.

    Args:
        quiet: the span processors (the SDK's tuple of them) with which nothing reads a
            span's attributes at its start (``TracingState.quiet_start``): while
            ``tracer`` has exactly these, ``attributes`` are added after the start with
            ``add_attributes``, the cheap way. ``None``: always given to the SDK.
    """
    if quiet is not None and processors_are(tracer, quiet):
        span = tracer.start_span(name, context=parent, kind=kind)
        both = {**attributes, **later} if later else attributes
        if both:
            add_attributes(span, both)
        return span
    span = tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
    if later:
        add_attributes(span, later)
    return span
