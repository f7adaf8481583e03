"""``BridgeSpanExporter``: spans to a backend over OTLP, assessments through its REST API.

Assessment records already travel as OTel data (carrier spans and span events with
``otelfeedback.assessment.*`` attributes). A bridge reads them out of the batches it exports,
with the one decoder (``assessments.wire.decode_record``), and hands what each record changes
to a backend writer that runs on the bridge's own worker (``bridges.worker``). The spans go on
over plain OTLP, except the carrier spans: their content now arrives natively, so the backend
shows no extra EVALUATOR span beside its own annotation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otelfeedback._internal.safety import log_internal_error
from otelfeedback.assessments.wire import AssessmentRecord, decode_record, is_record
from otelfeedback.bridges.log import AssessmentLog, Change
from otelfeedback.bridges.worker import Op, Sender, Worker

logger = logging.getLogger("otelfeedback")


class Writer(Sender, Protocol):
    """A backend: what to send for a change (``plan``), and how (``execute``)."""

    def plan(self, change: Change, resource: Mapping[str, Any]) -> list[Op]: ...


def records_in(
    spans: Sequence[ReadableSpan],
) -> tuple[list[ReadableSpan], list[tuple[AssessmentRecord, Mapping[str, Any]]], int]:
    """Split a batch: the spans to forward (all but carrier spans), the assessment records
    found (with the resource attributes of the span that carried each), and how many
    records could not be decoded."""
    forward: list[ReadableSpan] = []
    found: list[tuple[AssessmentRecord, Mapping[str, Any]]] = []
    malformed = 0
    for span in spans:
        resource = span.resource.attributes if span.resource is not None else {}
        attributes = dict(span.attributes or {})
        sources: list[tuple[dict[str, Any], int, str]] = []
        if is_record(attributes):
            sources.append((attributes, span.start_time or 0, f"{span.context.span_id:016x}"))
        else:
            forward.append(span)
        for index, event in enumerate(span.events):
            event_attributes = dict(event.attributes or {})
            if is_record(event_attributes):
                key = f"{span.context.span_id:016x}/{index}"
                sources.append((event_attributes, event.timestamp, key))
        for attrs, time_ns, key in sources:
            try:
                found.append((decode_record(attrs, time_ns, key), resource))
            except (ValueError, TypeError):
                malformed += 1
    return forward, found, malformed


class BridgeSpanExporter(SpanExporter):
    """Forward spans to ``otlp`` and write their assessment records with ``writer``.

    ``export`` never raises and never waits on the backend's REST API: records only enter
    the bridge's bounded queue. ``stats()`` (merged into ``Configuration.stats()``) counts
    the assessment writes: queued, written, retried, dropped, failed.

    Args:
        otlp: the span exporter for the backend's OTLP endpoint (None: assessments only).
        writer: the backend writer.
        name: the backend's name, for messages and the worker thread.
        queue_size: assessment writes held at most.
        retry_for_s: how long a write is retried before it counts as failed.
        max_traces: traces whose records are remembered to resolve later records.
    """

    def __init__(
        self,
        otlp: SpanExporter | None,
        writer: Writer,
        name: str,
        queue_size: int = 2048,
        retry_for_s: float = 60.0,
        max_traces: int = 2048,
    ) -> None:
        self.otlp = otlp
        self.writer = writer
        self.name = name
        self._log = AssessmentLog(max_traces)
        self._worker = Worker(writer, name, max_queue=queue_size, retry_for_s=retry_for_s)
        #: At shutdown (process exit), how long queued writes may still take.
        self.shutdown_timeout_s = 5.0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        forward, found, malformed = records_in(spans)
        if malformed:
            self._worker.stats.failed += malformed
            logger.warning(
                "otelfeedback: %s bridge: %d malformed assessment records", self.name, malformed
            )
        result = SpanExportResult.SUCCESS
        if forward and self.otlp is not None:
            result = self.otlp.export(forward)
        self.write(found)
        return result

    def write(self, records: Sequence[tuple[AssessmentRecord, Mapping[str, Any]]]) -> None:
        """Queue the backend writes for ``records`` (each with the resource attributes of
        its span), in the order they happened; one submission, so they can share batches."""
        ops: list[Op] = []
        for record, resource in records:
            try:
                ops += self.writer.plan(self._log.apply(record), resource)
            except Exception:
                self._worker.stats.failed += 1
                log_internal_error(f"the {self.name} bridge could not map an assessment record")
        self._worker.submit(ops)

    def stats(self) -> dict[str, Any]:
        """``{"assessments": {"queued", "written", "retried", "dropped", "failed"}}``."""
        return {"assessments": self._worker.counters()}

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        ok = True
        if self.otlp is not None:
            ok = bool(self.otlp.force_flush(timeout_millis))
        return self._worker.flush(timeout_millis / 1000) and ok

    def shutdown(self) -> None:
        if self.otlp is not None:
            self.otlp.shutdown()
        self._worker.shutdown(self.shutdown_timeout_s)
