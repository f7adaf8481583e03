"""Spans made encodable before any exporter sees them.

An attribute value OTLP cannot carry (an integer past 64 bits, a string with a lone UTF-16
surrogate) makes an OTLP exporter fail its whole batch, a hundred good spans with the bad
one. The batch processor passes every batch through ``encodable_spans`` first, which
applies the rule of ``otelfeedback._internal.otlp_json.values`` to names, attributes, events, links,
status messages and resources, and clamps times to ``[0, 2**64 - 1]`` ns. Spans that need
nothing (nearly all) are passed on as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, Status

from otelfeedback._internal.otlp_json.sdk_lines import plain_attributes
from otelfeedback._internal.otlp_json.values import (
    UINT64_MAX,
    clamp_time,
    encodable_attributes,
    has_surrogates,
    safe_text,
)


def encodable_spans(spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
    """``spans``, with a repaired copy in place of each span holding a value OTLP cannot
    carry; the same sequence when none does."""
    out: list[ReadableSpan] | None = None
    for index, span in enumerate(spans):
        fixed = encodable_span(span)
        if fixed is not span:
            if out is None:
                out = list(spans)
            out[index] = fixed
    return spans if out is None else out


def encodable_span(span: ReadableSpan) -> ReadableSpan:
    """``span`` itself when OTLP can carry all its values, else a repaired copy."""
    if _plainly_fine(span):
        return span
    # Each property read once: ``attributes``, ``events`` and ``links`` build a new view or
    # tuple per read, so comparing against a second read would copy every span.
    given_attributes, given_events, given_links = span.attributes, span.events, span.links
    name = safe_text(span.name)
    # The SDK's BoundedAttributes dict is checked directly (through the read-only view,
    # every key costs a Python call).
    checked = plain_attributes(getattr(span, "_attributes", given_attributes))
    attributes = encodable_attributes(checked)
    if attributes is checked:
        attributes = given_attributes
    events = _events(given_events)
    links = _links(given_links)
    status = span.status
    if status.description is not None and safe_text(status.description) is not status.description:
        status = Status(status.status_code, safe_text(status.description))
    resource = _resource(span.resource)
    start = None if span.start_time is None else clamp_time(span.start_time)
    end = None if span.end_time is None else clamp_time(span.end_time)
    if (
        name is span.name
        and attributes is given_attributes
        and events is given_events
        and links is given_links
        and status is span.status
        and resource is span.resource
        and start == span.start_time
        and end == span.end_time
    ):
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=resource,
        attributes=attributes,
        events=events,
        links=links,
        kind=span.kind,
        status=status,
        start_time=start,
        end_time=end,
        instrumentation_scope=span.instrumentation_scope,
    )


def _plainly_fine(span: ReadableSpan) -> bool:
    """Whether ``span`` (an SDK span, read through its own fields: its properties build a
    view or a tuple per read) has no event, no link and nothing to repair: the usual span,
    checked at the cost of its attributes. ``False`` sends it through the whole check."""
    try:
        name, attributes, status = span._name, span._attributes, span._status
        if span._events or span._links:
            return False
        start, end, resource = span._start_time, span._end_time, span._resource
    except AttributeError:  # another implementation, or renamed fields
        return False
    plain = plain_attributes(attributes)
    return (
        (type(name) is str and (name.isascii() or not has_surrogates(name)))
        and (status.description is None or not has_surrogates(status.description))
        and (start is None or 0 <= start <= UINT64_MAX)
        and (end is None or 0 <= end <= UINT64_MAX)
        and _resource(resource) is resource
        and encodable_attributes(plain) is plain
    )


def _events(events: Sequence[Event]) -> Sequence[Event]:
    out: list[Event] | None = None
    for index, event in enumerate(events):
        name, attributes = safe_text(event.name), encodable_attributes(event.attributes)
        if name is event.name and attributes is event.attributes:
            continue
        if out is None:
            out = list(events)
        out[index] = Event(name, attributes, clamp_time(event.timestamp))
    return events if out is None else out


def _links(links: Sequence[Link]) -> Sequence[Link]:
    out: list[Link] | None = None
    for index, link in enumerate(links):
        attributes = encodable_attributes(link.attributes)
        if attributes is link.attributes:
            continue
        if out is None:
            out = list(links)
        out[index] = Link(link.context, attributes)
    return links if out is None else out


def _resource(resource: Any) -> Any:
    """The resource (shared by every span of a provider) repaired, checked once per object."""
    if not isinstance(resource, Resource):
        return resource
    cached = _RESOURCES.get(id(resource))
    if cached is not None and cached[0] is resource:
        return cached[1]
    attributes = encodable_attributes(resource.attributes)
    fixed = (
        resource
        if attributes is resource.attributes
        else Resource(dict(attributes or {}), resource.schema_url)
    )
    if len(_RESOURCES) >= 16:
        _RESOURCES.clear()
    _RESOURCES[id(resource)] = (resource, fixed)
    return fixed


#: id of a resource -> (the resource, its repaired form); holding it keeps its id unique.
_RESOURCES: dict[int, tuple[Resource, Resource]] = {}
