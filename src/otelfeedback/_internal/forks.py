"""fork() safety for the objects that own locks, worker threads or file descriptors.

A forked child has one thread (the one that forked) but a copy of every lock: a lock another
thread held at that moment stays held for good in the child, and a file lock held through
an inherited descriptor stays held while the child lives. As the OpenTelemetry SDK does, we
use ``os.register_at_fork``; since a hook cannot be unregistered, objects register here
(weakly) and one set of hooks, installed by the first ``register()``, calls their methods:

- ``_before_fork()`` in the parent, just before the fork: take the object's locks (waiting
  at most ``FORK_WAIT_SECONDS`` for a thread that holds one), so that none is held by
  another thread at the moment of the fork;
- ``_after_fork_in_parent()``: release them;
- ``_after_fork_in_child()``: fresh locks and queues, no worker thread (one starts on
  demand), the inherited descriptors closed (the parent's stay open and locked as they
  were), nothing the parent had queued.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Protocol

#: Longest ``_before_fork`` waits for a lock another thread holds (an export in progress).
FORK_WAIT_SECONDS = 2.0


class ForkAware(Protocol):
    def _before_fork(self) -> None: ...

    def _after_fork_in_parent(self) -> None: ...

    def _after_fork_in_child(self) -> None: ...


_lock = threading.Lock()
_objects: weakref.WeakSet[ForkAware] = weakref.WeakSet()
_forking: list[ForkAware] = []
_held = False  # whether _before took _lock
_installed = False


def register(obj: ForkAware) -> None:
    """Call ``obj``'s fork methods around every ``os.fork()`` while ``obj`` lives."""
    global _installed
    with _lock:
        _objects.add(obj)
        if not _installed and hasattr(os, "register_at_fork"):
            os.register_at_fork(
                before=_before, after_in_parent=_after_in_parent, after_in_child=_after_in_child
            )
            _installed = True


def _before() -> None:
    global _held
    _held = _lock.acquire(timeout=FORK_WAIT_SECONDS)
    if not _held:
        return  # a register() stuck elsewhere: the child gets fresh state anyway
    _forking[:] = list(_objects)
    for obj in _forking:
        obj._before_fork()


def _after_in_parent() -> None:
    global _held
    objects = list(_forking)
    _forking.clear()
    for obj in reversed(objects):
        obj._after_fork_in_parent()
    if _held:
        _held = False
        _lock.release()


def _after_in_child() -> None:
    global _lock, _held
    _lock, _held = threading.Lock(), False
    objects = list(_forking) or list(_objects)
    _forking.clear()
    for obj in objects:
        obj._after_fork_in_child()


def acquire_for_fork(lock: threading.Lock | threading.RLock | threading.Condition) -> bool:
    """Take ``lock`` before a fork, waiting at most ``FORK_WAIT_SECONDS``; whether it was
    taken (and must be released in the parent)."""
    return bool(lock.acquire(timeout=FORK_WAIT_SECONDS))
