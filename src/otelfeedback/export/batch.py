"""A batching span processor that never blocks the app: a bounded queue that drops and
counts when the exporter cannot keep up, one worker thread, flush on demand and at exit."""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from typing import Any

from opentelemetry import context
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from otelfeedback._internal.safety import log_internal_error
from otelfeedback.export.encodable import encodable_spans

logger = logging.getLogger("otelfeedback")


class BoundedBatchSpanProcessor(SpanProcessor):
    """Queue finished spans and export them in batches from a background thread.

    ``on_end`` only appends to a bounded deque: when the queue is full the span is dropped
    and counted (``dropped_spans``), never waited on. Export failures are logged, counted
    (``failed_spans``) and never raised.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        max_queue_size: int = 2048,
        max_batch_size: int = 512,
        schedule_delay_ms: int = 500,
        export_timeout_ms: int = 10000,
    ) -> None:
        self.exporter = exporter
        self.max_queue_size = max(1, max_queue_size)
        self.max_batch_size = max(1, min(max_batch_size, self.max_queue_size))
        self.schedule_delay = max(0, schedule_delay_ms) / 1000
        self.export_timeout_ms = export_timeout_ms
        self.dropped_spans = 0
        self.exported_spans = 0
        self.failed_spans = 0
        self._queue: collections.deque[ReadableSpan] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._flush_requests: list[threading.Event] = []
        self._shutdown = False
        self._worker: threading.Thread | None = None
        self._pid = os.getpid()
        self._warned_drop = False

    # -- the app's side: cheap and non-blocking ------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        if self._shutdown or not span.context or not span.context.trace_flags.sampled:
            return
        if self._worker is None or self._pid != os.getpid():
            self._start_worker()
        queue = self._queue
        if len(queue) >= self.max_queue_size:
            self.dropped_spans += 1
            if not self._warned_drop:
                self._warned_drop = True
                logger.warning(
                    "otelfeedback: export queue full (%d spans); dropping spans until the "
                    "exporter catches up",
                    self.max_queue_size,
                )
            return
        queue.append(span)
        if len(queue) >= self.max_batch_size:
            with self._cond:
                self._cond.notify()

    def _start_worker(self) -> None:
        with self._cond:
            if self._worker is not None and self._pid == os.getpid():
                return
            if self._pid != os.getpid():  # forked: the parent's queue and thread are not ours
                self._pid = os.getpid()
                self._queue.clear()
            self._worker = threading.Thread(
                target=self._run, name="otelfeedback-export", daemon=True
            )
            self._worker.start()

    # -- the worker ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                if (
                    not self._shutdown
                    and not self._flush_requests
                    and (len(self._queue) < self.max_batch_size)
                ):
                    self._cond.wait(self.schedule_delay)
                flushes, self._flush_requests = self._flush_requests, []
                stopping = self._shutdown
            self._drain(everything=bool(flushes) or stopping)
            for event in flushes:
                event.set()
            if stopping:
                return

    def _drain(self, everything: bool) -> None:
        while self._queue:
            batch: list[ReadableSpan] = []
            while self._queue and len(batch) < self.max_batch_size:
                batch.append(self._queue.popleft())
            self._export(batch)
            if not everything and len(self._queue) < self.max_batch_size:
                return

    def _export(self, batch: list[ReadableSpan]) -> None:
        # An instrumented HTTP client in the app must not trace our own exports.
        token = context.attach(context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            result = self.exporter.export(encodable_spans(batch))
        except Exception:
            self.failed_spans += len(batch)
            log_internal_error(f"exporter {type(self.exporter).__name__} raised")
            return
        finally:
            context.detach(token)
        if getattr(result, "name", "SUCCESS") == "SUCCESS":
            self.exported_spans += len(batch)
        else:
            self.failed_spans += len(batch)

    # -- flush and shutdown --------------------------------------------------------------
    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self._shutdown:
            return True
        if self._worker is None or not self._worker.is_alive() or self._pid != os.getpid():
            if not self._queue:
                return True
            self._start_worker()
        done = threading.Event()
        with self._cond:
            self._flush_requests.append(done)
            self._cond.notify()
        ok = done.wait(timeout_millis / 1000)
        if ok:
            try:
                flush = getattr(self.exporter, "force_flush", None)
                if callable(flush):
                    flush(timeout_millis)
            except Exception:
                log_internal_error("exporter force_flush failed")
        return ok

    def shutdown(self) -> None:
        if self._shutdown:
            return
        deadline = time.monotonic() + self.export_timeout_ms / 1000
        with self._cond:
            self._shutdown = True
            self._cond.notify()
        worker = self._worker
        if worker is not None and worker.is_alive() and self._pid == os.getpid():
            worker.join(max(0.0, deadline - time.monotonic()))
        elif self._queue:
            self._drain(everything=True)
        try:
            self.exporter.shutdown()
        except Exception:
            log_internal_error("exporter shutdown failed")

    def stats(self) -> dict[str, Any]:
        """Counters: queued, exported, dropped and failed spans, plus whatever the
        exporter's own ``stats()`` adds (a bridge's assessment writes)."""
        counters: dict[str, Any] = {
            "queued": len(self._queue),
            "exported": self.exported_spans,
            "dropped": self.dropped_spans,
            "failed": self.failed_spans,
        }
        own = getattr(self.exporter, "stats", None)
        if callable(own):
            try:
                counters.update(own())
            except Exception:
                log_internal_error(f"exporter {type(self.exporter).__name__} stats failed")
        return counters
