"""A one-line progress bar on stderr for ``evaluate``: in a terminal or a notebook, never in
CI logs unless asked (``progress=True`` or ``OTELFEEDBACK_EVAL_PROGRESS=true``)."""

from __future__ import annotations

import os
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

from otelfeedback import config

WIDTH = 28
#: Seconds between redraws at most.
INTERVAL = 0.1


def enabled(explicit: bool | None, stream: TextIO) -> bool:
    """Argument, else the setting, else auto: a terminal or a notebook, and not CI."""
    choice = config.resolve("eval_progress", explicit)
    if choice is not None:
        return bool(choice)
    if os.environ.get("CI"):
        return False
    in_notebook = "ipykernel" in sys.modules
    try:
        return in_notebook or stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """``with Progress(total, label) as bar: bar.advance()`` — thread-safe."""

    def __init__(
        self, total: int, label: str, *, show: bool | None = None, stream: TextIO | None = None
    ) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.show = enabled(show, self.stream)
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._drawn = 0.0

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._draw(force=True)
        if self.show:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.show:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._drawn < INTERVAL and self.done < self.total:
                return
            self._drawn = now
            done, total = self.done, max(self.total, 1)
        filled = WIDTH * done // total
        bar = "█" * filled + "·" * (WIDTH - filled)
        elapsed = now - self._start
        self.stream.write(f"\r{self.label} {bar} {done}/{self.total} rows  {elapsed:5.1f}s")
        self.stream.flush()
