"""What a forked child needs beyond fresh locks (``_internal/forks.py``): its own network
connections, and a flush when it exits through ``os._exit``.

- An HTTP exporter's pooled keep-alive connections are shared with the parent after a fork:
  two processes writing requests into one TCP stream would garble both. The child drops its
  copies (closing a copy leaves the parent's connection open) and opens its own.
- ``multiprocessing`` children leave through ``os._exit`` after running
  ``multiprocessing.util`` finalizers, never the ``atexit`` hooks that flush the SDK at a
  normal exit; a finalizer flushes the child's spans instead.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

from otelfeedback._internal.safety import log_internal_error

#: Longest a multiprocessing child's exit waits for its spans to be exported.
CHILD_EXIT_FLUSH_MS = 3000


def forget_inherited_connections(exporter: Any) -> None:
    """Drop the pooled connections a forked child inherited from an OTLP/HTTP exporter (the
    OpenTelemetry exporter keeps them in ``_client._transport``; other exporters are left
    as they are)."""
    transport = getattr(getattr(exporter, "_client", None), "_transport", None)
    close = getattr(transport, "close", None)
    if callable(close):
        try:
            close()  # the session stays usable: it opens new connections on demand
        except Exception:
            log_internal_error("dropping the connections a forked child inherited failed")


def flush_at_multiprocessing_exit(processor: Any) -> None:
    """Have every ``multiprocessing`` child forked from now on flush ``processor`` (weakly
    held) when it ends. Called in the parent before a fork; registers once.

    A child process starts by clearing the finalizers it inherited, then runs the
    ``register_after_fork`` callbacks: the callback registers the finalizer in the child.
    """
    if "multiprocessing" not in sys.modules or getattr(processor, "_mp_flush", False):
        return  # without multiprocessing, a child exits normally and atexit flushes
    from multiprocessing import util

    processor._mp_flush = True
    util.register_after_fork(processor, _flush_when_child_ends)


def _flush_when_child_ends(processor: Any) -> None:
    from multiprocessing import util

    ref = weakref.ref(processor)

    def flush() -> None:
        live = ref()
        if live is not None:
            live.force_flush(CHILD_EXIT_FLUSH_MS)

    util.Finalize(None, flush, exitpriority=100)
