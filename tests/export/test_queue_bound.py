"""The default pipeline keeps every span of a tight loop; the export queue is bounded by
memory, and what passes the bound is dropped, counted and warned about at a bounded rate."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import otelfeedback
from otelfeedback._internal.otlp_json.decode import iter_spans
from otelfeedback._internal.otlp_json.segments import list_segments
from otelfeedback.export.batch import BoundedBatchSpanProcessor
from otelfeedback.export.file_store import FileStoreSpanExporter
from otelfeedback.store import Span
from tests.export.test_codec import _PublicOnly


def stored_spans(store: Path) -> list[Span]:
    """Every span of a file store, read with the store's segment reader and decoder."""
    spans: list[Span] = []
    for _, path in list_segments(store / "traces"):
        with open(path, "rb") as segment:
            for line in segment:
                spans.extend(iter_spans(json.loads(line), Span))
    return spans


@otelfeedback.trace
def small(x: int, y: int = 2) -> int:
    return x + y


@otelfeedback.trace
def inner(q: str) -> str:
    return q.upper()


@otelfeedback.trace
def outer(q: str) -> list[str]:
    return [inner(q), inner(q), inner(q)]


def test_a_tight_loop_with_the_default_pipeline_keeps_every_span(tmp_path: Path) -> None:
    config = otelfeedback.configure(store=tmp_path)
    for i in range(20_000):
        small(i)
    for _ in range(5_000):
        outer("q")
    assert otelfeedback.flush(60)
    spans = stored_spans(tmp_path)
    assert len(spans) == 20_000 + 4 * 5_000
    assert len({s.span_id for s in spans}) == len(spans)
    stats = config.stats()["FileStoreSpanExporter"]
    assert stats["exported"] == len(spans)
    assert (stats["dropped"], stats["failed"], stats["queued"], stats["queued_bytes"]) == (
        0,
        0,
        0,
        0,
    )


def test_a_tight_loop_without_configure_keeps_every_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_STORE", str(tmp_path))
    for i in range(5_000):
        small(i)
    for _ in range(1_000):
        outer("q")
    assert otelfeedback.flush(60)
    assert len(stored_spans(tmp_path)) == 5_000 + 4 * 1_000


class Holding(SpanExporter):
    """Keeps what it is given (a user's exporter, as ``exporters=[...]`` takes it)."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _drops(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


def test_spans_past_the_byte_bound_are_dropped_counted_and_warned_at_a_bounded_rate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    holding = Holding()
    # No export before the flush (a long delay, a large batch): the queue only fills.
    config = otelfeedback.configure(
        store="", exporters=[holding], export_queue_bytes=200_000, export_delay_ms=600_000
    )
    with caplog.at_level(logging.DEBUG, "otelfeedback"):
        for i in range(300):
            small(i)
        stats = config.stats()["Holding"]
        assert 0 < stats["queued_bytes"] <= 200_000
        assert stats["queued"] + stats["dropped"] == 300
        assert stats["dropped"] > 0
        warnings = _drops(caplog, "export queue of Holding full (200000 bytes")
    assert [r.levelno for r in warnings][:1] == [logging.WARNING]
    assert all(r.levelno == logging.DEBUG for r in warnings[1:])  # once a minute at most
    assert len(warnings) == stats["dropped"]
    assert otelfeedback.flush(10)
    after = config.stats()["Holding"]
    assert len(holding.spans) == after["exported"] == 300 - stats["dropped"]
    assert after["queued_bytes"] == 0
    # How near the queue came to its bound stays readable after it drained.
    assert stats["queued_bytes"] <= after["peak_queued_bytes"] <= 200_000
    small(0)  # room again once exported
    assert otelfeedback.flush(10)
    assert config.stats()["Holding"]["dropped"] == stats["dropped"]


def _huge_span() -> str:
    config = otelfeedback.get_configuration()
    assert config is not None
    tracer = config.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("huge") as span:
        span.set_attribute("blob", "é" + "x" * 10_000_000)
        return format(span.get_span_context().span_id, "016x")


def test_a_10_mb_span_within_the_bound_reaches_the_store_whole(tmp_path: Path) -> None:
    otelfeedback.configure(store=tmp_path)
    span_id = _huge_span()
    small(1)
    assert otelfeedback.flush(60)
    spans = {s.span_id: s for s in stored_spans(tmp_path)}
    assert len(spans) == 2
    assert spans[span_id].attributes["blob"] == "é" + "x" * 10_000_000


def test_a_span_larger_than_the_whole_bound_is_dropped_counted_and_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = otelfeedback.configure(store=tmp_path, export_queue_bytes=1024 * 1024)
    with caplog.at_level(logging.WARNING, "otelfeedback"):
        _huge_span()
        small(1)  # a span of ordinary size still goes through
        assert otelfeedback.flush(10)
    stats: dict[str, Any] = config.stats()["FileStoreSpanExporter"]
    assert (stats["dropped"], stats["exported"]) == (1, 1)
    assert [s.name for s in stored_spans(tmp_path)] == ["small"]
    (warning,) = _drops(caplog, "is larger than the export queue's bound")
    assert "FileStoreSpanExporter (1048576 bytes): dropped" in warning.getMessage()


def test_a_span_without_the_sdks_private_fields_is_queued_and_stored(tmp_path: Path) -> None:
    """The size estimate and the encoder read the SDK's own fields for speed; a span without
    them (another ``ReadableSpan`` implementation, a future SDK) still goes through."""
    kept: list[ReadableSpan] = []

    class Keep(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            kept.extend(spans)
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Keep()))
    with provider.get_tracer("t").start_as_current_span("public-only", attributes={"a": "b"}):
        pass
    processor = BoundedBatchSpanProcessor(FileStoreSpanExporter(tmp_path))
    processor.on_end(_PublicOnly(kept[0]))  # type: ignore[arg-type]
    assert processor.force_flush(10_000)
    processor.shutdown()
    [span] = stored_spans(tmp_path)
    assert (span.name, span.attributes) == ("public-only", {"a": "b"})
