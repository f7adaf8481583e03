"""A batching span processor that never blocks the app: a queue bounded by memory that
drops and counts when the exporter cannot keep up, one worker thread, flush on demand and
at exit.

The queue is bounded by bytes, not by span count: each span's size is estimated as it ends
(``export/span_size.py``) and a span is queued while the queued and in-flight spans stay
within ``max_queue_bytes`` (128 MiB by default); a span that would pass it is dropped,
counted and warned about at a bounded rate. A single span larger than the whole bound can
never be queued: it is dropped the same way, with its own warning. A span that ends with a
completion (``tracing/completion.py``: attributes still to build) is queued with it, counted
with what it will add, and completed by the worker just before its batch is exported. A count bound
(``max_queue_size``) applies as well when set (``OTEL_BSP_MAX_QUEUE_SIZE``).

Batches are large on purpose: up to ``max_batch_size`` spans and ``BATCH_BYTES`` (8 MiB,
estimated). The worker gives up the GIL at every system call of a write and, while the
app's thread is busy, waits up to the interpreter's switch interval (5 ms) to get it back:
a file-store append costs about 6-8 ms of the worker's time whatever its size, so few large
writes keep up with a tight loop where many small ones fell behind (1 MiB batches of 20 KB
spans lost 28 % of them). The file store still encodes a batch as lines of at most
``LINE_SPANS`` spans, written in one call: small lines stay in the cache.

Exit is bounded: ``shutdown`` waits at most ``shutdown_timeout_ms`` for what is queued or
being exported, then shuts the exporter down (an OTLP exporter stops retrying a dead
backend) and counts what never left as dropped. Across ``fork()`` the child starts with an
empty queue, fresh locks and no worker (one starts with its first span), and flushes at
exit even when it leaves through ``os._exit`` (``multiprocessing``): see
``export/fork_support.py``.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry import context
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from otelfeedback import config
from otelfeedback._internal import forks
from otelfeedback._internal.safety import log_internal_error, warn_limited
from otelfeedback.export import fork_support
from otelfeedback.export.encodable import encodable_spans
from otelfeedback.export.span_size import estimated_span_bytes
from otelfeedback.tracing.completion import Completion, pending

logger = logging.getLogger("otelfeedback")
#: How many ids of dropped or failed spans a processor remembers (``was_lost``).
LOST_MEMORY = 8192
#: The default bound of the queue's memory (queued and in-flight spans), in bytes: the
#: ``export_queue_bytes`` setting's default.
QUEUE_BYTES: int = config.default("export_queue_bytes")
#: Spans of one export call hold at most this many bytes (and at least one span).
BATCH_BYTES = 8 * 1024 * 1024


class BoundedBatchSpanProcessor(SpanProcessor):
    """Queue finished spans and export them in batches from a background thread.

    ``on_end`` estimates the span's size and appends it to a deque: when the queue's bytes
    (or its count, if ``max_queue_size`` is set) would pass the bound, the span is dropped
    and counted (``dropped_spans``), never waited on. Export failures are logged, counted
    (``failed_spans``) and never raised. A span ``write_through`` selects (an assessment's
    carrier, for a local store) is exported at once in the caller's thread instead, and
    ``was_lost`` tells the caller whether it was written.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        max_queue_size: int = 0,
        max_batch_size: int = 512,
        schedule_delay_ms: int = 500,
        export_timeout_ms: int = 10000,
        shutdown_timeout_ms: int = 3000,
        write_through: Callable[[ReadableSpan], bool] | None = None,
        max_queue_bytes: int = QUEUE_BYTES,
    ) -> None:
        """Args:
        exporter: where batches go.
        max_queue_size: spans queued at most; 0: no count bound (the byte bound holds).
        max_batch_size: spans per export call at most.
        schedule_delay_ms: longest wait before a partial batch is exported.
        export_timeout_ms: longest an export call may take (the exporter's own limit).
        shutdown_timeout_ms: longest ``shutdown`` waits for what is queued.
        write_through: selects spans exported at once in the caller's thread.
        max_queue_bytes: estimated bytes of queued and in-flight spans at most.
        """
        self.exporter = exporter
        self.write_through = write_through
        self.max_queue_size = max(0, max_queue_size)
        self.max_queue_bytes = max(1, max_queue_bytes)
        self.max_batch_size = max(1, min(max_batch_size, self.max_queue_size or max_batch_size))
        # The file store applies the value rule as it encodes: no repair pass first.
        self._repair = not getattr(exporter, "applies_value_rule", False)
        self.schedule_delay = max(0, schedule_delay_ms) / 1000
        self.export_timeout_ms = export_timeout_ms
        self.shutdown_timeout = max(0, shutdown_timeout_ms) / 1000
        self._fresh_state()
        self._shutdown = False
        self._fork_locked = False
        self._mp_flush = False  # registered with multiprocessing (``fork_support``)
        forks.register(self)

    def _fresh_state(self) -> None:
        """Counters, queue, lock and worker as a new process starts them."""
        self.dropped_spans = 0
        self.exported_spans = 0
        self.failed_spans = 0
        self._in_flight = 0  # spans of the batch the exporter has now (retrying, maybe)
        #: Ids of the latest spans dropped or failed (``was_lost``).
        self._lost: collections.deque[int] = collections.deque(maxlen=LOST_MEMORY)
        #: Finished spans with their estimated sizes and their completions (the attributes
        #: they get before export, ``tracing/completion.py``), oldest first.
        self._queue: collections.deque[tuple[ReadableSpan, int, Completion | None]] = (
            collections.deque()
        )
        #: Estimated bytes of the queued spans and of the batch being exported.
        self._queued_bytes = 0
        #: The most ``_queued_bytes`` has been: how near the bound the queue came.
        self.peak_queued_bytes = 0
        self._bytes_lock = threading.Lock()
        self._cond = threading.Condition(threading.Lock())
        self._flush_requests: list[threading.Event] = []
        self._worker: threading.Thread | None = None
        self._abandoned = False  # shutdown gave up waiting: stop exporting
        self._pid = os.getpid()

    # -- the app's side: cheap and non-blocking ------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        if not span.context or not span.context.trace_flags.sampled:
            return
        completion = pending(span.context.span_id)
        if self.write_through is not None and self.write_through(span):
            if self._shutdown:
                self._lost.append(span.context.span_id)
            else:
                self._export([(span, completion)], in_flight=False)
            return
        if self._shutdown:
            return
        if self._worker is None or self._pid != os.getpid():
            self._start_worker()
        size = estimated_span_bytes(span)
        if completion is not None:
            size += completion.size
        queue = self._queue
        with self._bytes_lock:
            queued_bytes = self._queued_bytes + size
            fits = queued_bytes <= self.max_queue_bytes and (
                not self.max_queue_size or len(queue) < self.max_queue_size
            )
            if fits:
                self._queued_bytes = queued_bytes
                queue.append((span, size, completion))
                self.peak_queued_bytes = max(self.peak_queued_bytes, queued_bytes)
        if not fits:
            self._drop(span, size)
        elif len(queue) >= self.max_batch_size or queued_bytes >= BATCH_BYTES:
            with self._cond:
                self._cond.notify()

    def _drop(self, span: ReadableSpan, size: int) -> None:
        self.dropped_spans += 1
        if span.context:
            self._lost.append(span.context.span_id)
        name = type(self.exporter).__name__
        if size > self.max_queue_bytes:
            warn_limited(
                "otelfeedback: a span of about %d bytes is larger than the export queue's "
                "bound for %s (%d bytes): dropped",
                size,
                name,
                self.max_queue_bytes,
            )
        else:
            count = f" or {self.max_queue_size} spans" if self.max_queue_size else ""
            warn_limited(
                "otelfeedback: export queue of %s full (%d bytes%s); dropping spans until it "
                "catches up",
                name,
                self.max_queue_bytes,
                count,
            )

    def _start_worker(self) -> None:
        with self._cond:
            if self._worker is not None and self._pid == os.getpid():
                return
            if self._pid != os.getpid():  # forked without the fork hooks: start afresh
                self._pid = os.getpid()
                self._queue.clear()
                self._queued_bytes = 0
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
                    and len(self._queue) < self.max_batch_size
                    and self._queued_bytes < BATCH_BYTES
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
        queue = self._queue
        while queue and not self._abandoned:
            batch: list[tuple[ReadableSpan, Completion | None]] = []
            batch_bytes = 0
            while queue and len(batch) < self.max_batch_size and batch_bytes < BATCH_BYTES:
                span, size, completion = queue.popleft()
                batch.append((span, completion))
                batch_bytes += size
            try:
                self._export(batch)
            finally:
                with self._bytes_lock:
                    self._queued_bytes -= batch_bytes
            if not everything and len(queue) < self.max_batch_size:
                return

    def _export(
        self, pairs: list[tuple[ReadableSpan, Completion | None]], *, in_flight: bool = True
    ) -> None:
        """Complete the spans that have a completion, then export them all."""
        batch = [span for span, _ in pairs]
        # An instrumented HTTP client in the app must not trace our own exports.
        token = context.attach(context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        if in_flight:
            self._in_flight = len(batch)
        try:
            for span, completion in pairs:
                if completion is not None:
                    completion.apply(span)
            result = self.exporter.export(encodable_spans(batch) if self._repair else batch)
        except Exception:
            self._failed(batch)
            log_internal_error(f"exporter {type(self.exporter).__name__} raised")
            return
        finally:
            if in_flight:
                self._in_flight = 0
            context.detach(token)
        if getattr(result, "name", "SUCCESS") == "SUCCESS":
            self.exported_spans += len(batch)
        else:
            self._failed(batch)

    def _failed(self, batch: list[ReadableSpan]) -> None:
        self.failed_spans += len(batch)
        self._lost.extend(span.context.span_id for span in batch if span.context)

    def was_lost(self, span_id: int) -> bool:
        """Whether the span with this id was dropped or failed to export, among the latest
        ``LOST_MEMORY`` such spans. After ``force_flush`` returned True, a span that ended
        before it was either exported or is reported here."""
        return span_id in self._lost

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
        """Export what is queued, waiting at most ``shutdown_timeout_ms``; then shut the
        exporter down. Spans still queued then are counted as dropped."""
        if self._shutdown:
            return
        with self._cond:
            self._shutdown = True
            self._cond.notify()
        if self._queue and (self._worker is None or not self._worker.is_alive()):
            self._start_worker()  # it sees the shutdown: drains, then ends
        worker = self._worker
        if worker is not None and self._pid == os.getpid():
            worker.join(self.shutdown_timeout)
            if worker.is_alive():
                self._abandoned = True  # the backend is slow or down: give up on it
        try:
            self.exporter.shutdown()  # an OTLP exporter stops its retries
        except Exception:
            log_internal_error("exporter shutdown failed")
        left = len(self._queue)
        if left:
            self._lost.extend(span.context.span_id for span, _, _ in self._queue if span.context)
            self._queue.clear()
            self._queued_bytes = 0
            self.dropped_spans += left
            warn_limited(
                "otelfeedback: %s did not export %d spans within the shutdown timeout "
                "(%.1f s); they are dropped",
                type(self.exporter).__name__,
                left,
                self.shutdown_timeout,
            )

    def stats(self) -> dict[str, Any]:
        """Counters: spans queued (and their estimated bytes, with the batch in flight),
        being exported now (``in_flight``: the batch the exporter
        holds, perhaps retrying it), exported, dropped and failed, plus whatever the
        exporter's own ``stats()`` adds (a bridge's assessment writes)."""
        counters: dict[str, Any] = {
            "queued": len(self._queue),
            "queued_bytes": self._queued_bytes,
            "peak_queued_bytes": self.peak_queued_bytes,
            "in_flight": self._in_flight,
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

    # -- fork (``_internal/forks.py``) -----------------------------------------------------
    def _before_fork(self) -> None:
        if not self._shutdown:
            fork_support.flush_at_multiprocessing_exit(self)
        self._fork_locked = forks.acquire_for_fork(self._cond)

    def _after_fork_in_parent(self) -> None:
        if self._fork_locked:
            self._fork_locked = False
            self._cond.release()

    def _after_fork_in_child(self) -> None:
        # What the parent queued is the parent's to export; the child counts its own.
        self._fresh_state()
        self._fork_locked = False
        if not self._shutdown:
            fork_support.forget_inherited_connections(self.exporter)
