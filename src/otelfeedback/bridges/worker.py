"""The bridge's own background worker: a bounded queue of backend writes, sent in batches
from one thread, retried with backoff, in order per trace, never raising into the app.

A write that the backend cannot take yet (Phoenix answers 404 until it has ingested the span;
a backend that is restarting answers 503 or nothing) is retried after 0.25 s, 0.5 s, 1 s, ...
(at most ``max_delay_s`` apart) until ``retry_for_s`` has passed since it was queued; then it
is counted as failed. Writes of one trace go out in the order they were queued (a delete never
overtakes its create); writes of different traces do not wait for each other. When the queue
is full, new writes are dropped and counted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from opentelemetry import context as otel_context

from otelfeedback._internal.safety import log_internal_error

logger = logging.getLogger("otelfeedback")

Outcome = Literal["done", "retry", "failed"]


@dataclass
class Op:
    """One write to a backend. Ops with the same ``batch_key`` may be sent in one request."""

    trace_id: str
    action: str
    payload: dict[str, Any]
    batch_key: str | None = None


@dataclass(frozen=True)
class Result:
    """What became of one op; ``message`` says why for ``retry`` and ``failed``."""

    outcome: Outcome
    message: str = ""


DONE = Result("done")


class Sender(Protocol):
    """Sends ops to one backend (``execute`` gets one op, or one batch of the same key)."""

    def execute(self, ops: Sequence[Op]) -> list[Result]: ...


@dataclass
class _Job:
    op: Op
    queued_at: float
    due: float
    attempts: int = 0
    running: bool = False


@dataclass
class WorkerStats:
    written: int = 0
    retried: int = 0
    dropped: int = 0
    failed: int = 0


def _suppressed_context() -> Any:
    """Our own HTTP calls must not be traced by an instrumented client in the app."""
    key = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", "suppress_instrumentation")
    return otel_context.set_value(key, True)


class Worker:
    """Queue ops for ``sender`` and send them from a daemon thread."""

    def __init__(
        self,
        sender: Sender,
        name: str,
        max_queue: int = 2048,
        max_batch: int = 100,
        retry_for_s: float = 60.0,
        first_delay_s: float = 0.25,
        max_delay_s: float = 8.0,
    ) -> None:
        self.sender = sender
        self.name = name
        self.max_queue = max(1, max_queue)
        self.max_batch = max(1, max_batch)
        self.retry_for_s = retry_for_s
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.stats = WorkerStats()
        self._jobs: list[_Job] = []
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._stopping = False
        self._failing = False

    # -- the exporter's side ---------------------------------------------------------------
    def submit(self, ops: Sequence[Op]) -> None:
        """Queue ``ops`` (dropping and counting what does not fit); never blocks on I/O."""
        if not ops:
            return
        now = time.monotonic()
        with self._cond:
            if self._pid != os.getpid():  # forked: the parent's queue and thread are not ours
                self._pid, self._jobs, self._thread = os.getpid(), [], None
            if self._stopping:
                self.stats.dropped += len(ops)
                return
            for op in ops:
                if len(self._jobs) >= self.max_queue:
                    self.stats.dropped += 1
                    continue
                self._jobs.append(_Job(op, now, now))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"otelfeedback-{self.name}", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def counters(self) -> dict[str, int]:
        """Counters: queued, written, retried, dropped, failed."""
        with self._cond:
            queued = len(self._jobs)
        s = self.stats
        return {
            "queued": queued,
            "written": s.written,
            "retried": s.retried,
            "dropped": s.dropped,
            "failed": s.failed,
        }

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queued op is written or given up; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            if self._pid != os.getpid():
                return True
            while self._jobs:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def shutdown(self, timeout_s: float) -> None:
        """Give queued ops ``timeout_s`` to go out, then stop (what is left is dropped)."""
        self.flush(timeout_s)
        with self._cond:
            self._stopping = True
            self.stats.dropped += sum(1 for job in self._jobs if not job.running)
            self._jobs = [job for job in self._jobs if job.running]
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(max(1.0, timeout_s))

    # -- the worker thread -----------------------------------------------------------------
    def _pick(self, now: float) -> tuple[list[_Job], float | None]:
        """The next batch to send, or ``([], seconds until one is due)``."""
        blocked: set[str] = set()
        batch: list[_Job] = []
        next_due: float | None = None
        for job in self._jobs:
            trace = job.op.trace_id
            if trace in blocked:
                continue
            blocked.add(trace)
            if job.running:
                continue
            if job.due > now:
                next_due = job.due if next_due is None else min(next_due, job.due)
                continue
            if not batch:
                batch.append(job)
                if job.op.batch_key is None:
                    break
            elif job.op.batch_key == batch[0].op.batch_key and len(batch) < self.max_batch:
                batch.append(job)
        return batch, (None if next_due is None else max(0.0, next_due - now))

    def _run(self) -> None:
        otel_context.attach(_suppressed_context())
        while True:
            with self._cond:
                while True:
                    if self._stopping:  # shutdown() gave the queue its time already
                        self.stats.dropped += len(self._jobs)
                        self._jobs = []
                        self._cond.notify_all()
                        return
                    batch, wait = self._pick(time.monotonic())
                    if batch:
                        break
                    self._cond.wait(wait)
                for job in batch:
                    job.running = True
            results = self._execute([job.op for job in batch])
            with self._cond:
                for job, result in zip(batch, results):
                    job.running = False
                    self._settle(job, result)
                self._cond.notify_all()

    def _execute(self, ops: list[Op]) -> list[Result]:
        try:
            results = self.sender.execute(ops)
            if len(results) != len(ops):
                raise RuntimeError(f"{len(results)} results for {len(ops)} ops")
            return results
        except Exception:
            log_internal_error(f"the {self.name} bridge failed to send")
            return [Result("failed", "internal error")] * len(ops)

    def _settle(self, job: _Job, result: Result) -> None:
        """Book a result (called with the lock held)."""
        now = time.monotonic()
        if result.outcome == "retry" and now - job.queued_at < self.retry_for_s:
            job.attempts += 1
            self.stats.retried += 1
            delay = self.first_delay_s * 2 ** (job.attempts - 1)
            job.due = now + min(self.max_delay_s, delay)
            return
        self._jobs.remove(job)
        if result.outcome == "done":
            self.stats.written += 1
            self._failing = False
            return
        self.stats.failed += 1
        level = logging.DEBUG if self._failing else logging.WARNING
        self._failing = True
        logger.log(
            level,
            "otelfeedback: the %s bridge could not %s an assessment of trace %s: %s",
            self.name,
            job.op.action,
            job.op.trace_id,
            result.message,
        )
