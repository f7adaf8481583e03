"""``configure(store="postgresql://...")``: the SDK's spans straight into the PostgreSQL store,
one transaction per exported batch, through the same code as the server's receiver."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otelfeedback._internal.otlp_json.sdk_lines import sdk_spans_line
from otelfeedback._internal.safety import log_internal_error
from otelfeedback.errors import StoreUnavailableError
from otelfeedback.store.sql.store import SqlStore

logger = logging.getLogger("otelfeedback.export")


class SqlStoreSpanExporter(SpanExporter):
    """Export spans to a PostgreSQL store; never raises. A batch the database cannot take
    (down, restarting) fails as a whole, is counted by the batch processor and logged.

    >>> exporter = SqlStoreSpanExporter("postgresql://localhost/traces")  # doctest: +SKIP
    """

    def __init__(self, url: str) -> None:
        self.store = SqlStore(url, pool_size=2)
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._closed:
            return SpanExportResult.FAILURE
        try:
            self.store.append_line(sdk_spans_line(spans))  # the file store's line
        except StoreUnavailableError as exc:
            logger.warning("%d spans not exported: %s", len(spans), exc)
            return SpanExportResult.FAILURE
        except Exception:
            log_internal_error(f"writing spans to the PostgreSQL store {self.store.path} failed")
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self.store.close()
