"""Pausing the cyclic garbage collector while many short-lived objects are built."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many objects are built and kept: a chunk of
    spans decoded and stored (``store/indexer.py``), a version of a dataset loaded.

    An indexing chunk allocates a few million short-lived containers (decoded JSON) and keeps
    up to ``CHUNK_SPANS`` spans alive, which makes the collector run full collections over
    them again and again (about a tenth of the indexing time; loading 100,000 records, half
    the time); none of it forms cycles, so reference counting frees it all. Nested and
    concurrent pauses are counted; the collector's previous state is restored when the last
    one ends."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
