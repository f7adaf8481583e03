"""A console exporter: one readable line per finished span on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otelfeedback import semconv
from otelfeedback._internal.safety import log_internal_error


class ConsoleSpanExporter(SpanExporter):
    """Print ``trace_id span_id type name duration status`` for each span."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        out = self._out or sys.stderr
        try:
            for span in spans:
                ctx = span.context
                if ctx is None:
                    continue
                attrs = span.attributes or {}
                ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
                out.write(
                    f"[otelfeedback] {ctx.trace_id:032x} {ctx.span_id:016x} "
                    f"{attrs.get(semconv.SPAN_TYPE, '-'):<10} {span.name} {ms:.1f}ms "
                    f"{span.status.status_code.name}\n"
                )
            out.flush()
        except Exception:
            log_internal_error("console export failed")
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass
