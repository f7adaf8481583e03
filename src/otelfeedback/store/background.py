"""Index a file store from a background thread, so that reads need not catch up themselves.

The server runs one ``BackgroundIndexer`` next to a ``FileStore`` with an ``index_budget``:
spans pour into the segments at the receiver's speed, the thread indexes them as fast as it
can, and a page request answers from what is indexed after at most its budget of catching
up. While a page request is in flight (``ReadGate``) the thread pauses between lines, so the
request has the interpreter to itself (up to ``MAX_PAUSE_SECONDS`` at a time, and never more
than half of the time: indexing does not starve). How far the index lags is
``FileStore.index_status()``, shown by the pages and ``/api/health``.

>>> indexer = BackgroundIndexer("./otelfeedback-data")  # doctest: +SKIP
>>> indexer.start(); ...; indexer.stop()                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from otelfeedback.store import bulk, indexer
from otelfeedback.store.file_store import INDEX_FILE, TRACES_DIR
from otelfeedback.store.index_db import IndexDatabase

logger = logging.getLogger("otelfeedback.store")

#: Seconds of indexing per transaction round: the thread checks for ``stop()`` in between.
ROUND_SECONDS = 1.0
#: Seconds between looks at the segments when there was nothing to index.
IDLE_SECONDS = 0.1
#: Longest pause for requests in flight; after one, the thread indexes at least as long.
MAX_PAUSE_SECONDS = 0.25
#: Seconds between two warnings about the same failure.
WARN_EVERY_SECONDS = 60.0


class ReadGate:
    """Counts the requests in flight that read the index, for ``BackgroundIndexer`` to
    give way to."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._resumed = 0.0
        self._paused_for = 0.0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                if not self._active:
                    self._cond.notify_all()

    def pause(self) -> None:
        """Wait while requests are in flight: at most ``MAX_PAUSE_SECONDS``, and not again
        before the indexer has run as long as it paused."""
        if not self._active:  # the usual case: no lock taken
            return
        started = time.monotonic()
        if started - self._resumed < self._paused_for:
            return
        with self._cond:
            self._cond.wait_for(lambda: not self._active, MAX_PAUSE_SECONDS)
        self._resumed = time.monotonic()
        self._paused_for = self._resumed - started


class BackgroundIndexer:
    """Keeps the index of the store at ``path`` up to date from a daemon thread.

    Args:
        path: the store directory.
        idle_seconds: how often to look for new lines when there was nothing to index.
        gate: the requests in flight to give way to.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        idle_seconds: float = IDLE_SECONDS,
        gate: ReadGate | None = None,
    ) -> None:
        self.path = Path(path)
        self.idle_seconds = idle_seconds
        self.gate = gate
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_warning = 0.0
        #: Lines indexed by this thread since it started (for tests and /api/health).
        self.indexed_lines = 0

    def start(self) -> None:
        """Start the thread (a no-op when it runs)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="otelfeedback-indexer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; waits at most ``timeout`` seconds for the current round."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        db = IndexDatabase(self.path / INDEX_FILE)
        traces_dir = self.path / TRACES_DIR
        restored = False
        try:
            while not self._stop.is_set():
                lines = 0
                if traces_dir.is_dir():
                    try:
                        conn = db.connection()
                        if not restored:  # indexes an interrupted bulk load left out
                            bulk.restore_indexes(conn)
                            restored = True
                        # Rounds, even for a first build: a bulk load (``bulk.py``) drops
                        # the secondary indexes, and pages would scan until it ends.
                        pause = self.gate.pause if self.gate is not None else None
                        lines = indexer.update(conn, traces_dir, ROUND_SECONDS, pause=pause).lines
                    except Exception as exc:  # a full disk, a deleted store: retry later
                        self._warn(exc)
                        db.close()
                self.indexed_lines += lines
                if lines == 0:
                    self._stop.wait(self.idle_seconds)
        finally:
            db.close()

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            logger.warning("background indexing of %s failed (retrying): %s", self.path, exc)
