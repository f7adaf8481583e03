"""The file-store line of one assessment record: its carrier span, encoded by the one
OTLP/JSON codec. The file store appends it; the remote store posts it to the server."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from otelfeedback._internal.otlp_json.sdk_lines import sdk_spans_line
from otelfeedback.assessments.emit import carrier_span
from otelfeedback.assessments.placement import Target
from otelfeedback.assessments.wire import AssessmentRecord

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource


@functools.lru_cache(maxsize=16)
def _resource(service_name: str) -> Resource:
    from opentelemetry.sdk.resources import Resource

    return Resource({"service.name": service_name})


def carrier_line(record: AssessmentRecord, target: Target | None, service_name: str) -> bytes:
    """One complete OTLP/JSON line holding ``record``'s carrier span."""
    return sdk_spans_line([carrier_span(record, target, _resource(service_name))])
