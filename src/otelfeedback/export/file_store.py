"""The JSON file store exporter: finished spans as OTLP/JSON lines in the store's segments.

Layout and multi-process safety: ``otelfeedback._internal.otlp_json.segments``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otelfeedback._internal.otlp_json.sdk_lines import sdk_spans_line
from otelfeedback._internal.otlp_json.segments import SegmentWriter
from otelfeedback._internal.safety import log_internal_error

#: Spans per line: a batch is written as lines of at most this many spans, in one call
#: (a few lines of a megabyte encode faster than one of ten, whose copies miss the cache).
LINE_SPANS = 64


class FileStoreSpanExporter(SpanExporter):
    """Export spans to a file store directory as OTLP/JSON lines; never raises.

    >>> exporter = FileStoreSpanExporter("./otelfeedback-data")  # doctest: +SKIP
    """

    #: The encoder applies the value rule itself: the batch processor skips its repair pass.
    applies_value_rule = True

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int = 64 * 1024 * 1024):
        self.directory = Path(directory)
        self._writer = SegmentWriter(self.directory / "traces", max_bytes)
        self._closed = False
        #: Why the last failed export failed (``"OSError: [Errno 28] No space left..."``).
        self.last_error: str | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._closed:
            return SpanExportResult.FAILURE
        try:
            step = LINE_SPANS
            self._writer.append(
                [sdk_spans_line(spans[i : i + step]) for i in range(0, len(spans), step)]
            )
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log_internal_error(f"writing spans to the file store {self.directory} failed")
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()
