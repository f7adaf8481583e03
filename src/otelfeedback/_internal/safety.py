"""The one place where otelfeedback swallows its own errors.

Instrumentation must never break the host app, so internal failures are logged (with the
traceback) and the app carries on. Under pytest they are raised instead, so our own bugs
fail our tests; ``OTELFEEDBACK_RAISE_INTERNAL_ERRORS`` overrides either way.

Warnings repeat at a bounded rate: the same message is logged as a warning at most once per
``WARN_INTERVAL_SECONDS``, saying how many times it happened since it was last shown (the
occurrences in between go to debug level). A failure that lasts (a full disk, a dead
backend) stays visible in the logs; a failure in a hot loop does not flood them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

logger = logging.getLogger("otelfeedback")

#: Seconds between two warnings with the same message.
WARN_INTERVAL_SECONDS = 60.0
_MAX_TRACKED = 1000
#: message -> (time it was last shown, occurrences since then)
_shown: dict[str, tuple[float, int]] = {}
_lock = threading.Lock()


def _should_raise() -> bool:
    raw = os.environ.get("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    return "PYTEST_CURRENT_TEST" in os.environ


def _due(key: str) -> int | None:
    """The occurrences of ``key`` not shown yet when a warning is due now, else None."""
    now = time.monotonic()
    with _lock:
        last = _shown.get(key)
        if last is not None and now - last[0] < WARN_INTERVAL_SECONDS:
            _shown[key] = (last[0], last[1] + 1)
            return None
        if len(_shown) >= _MAX_TRACKED:
            _shown.clear()
        _shown[key] = (now, 0)
        return last[1] if last is not None else 0


def warn_limited(message: str, *args: Any, exc_info: Any = None) -> None:
    """Log ``message % args`` as a warning, at most once per ``WARN_INTERVAL_SECONDS`` for
    the same text (at debug level in between)."""
    missed = _due(message % args if args else message)
    if missed is None:
        logger.debug(message, *args, exc_info=exc_info)
        return
    if missed:
        message += f" (and {missed} more time{'s' if missed != 1 else ''} since the last warning)"
    logger.warning(message, *args, exc_info=exc_info)


def log_internal_error(message: str) -> None:
    """Report the exception being handled as an otelfeedback internal error.

    Call it inside an ``except`` block. Logs a warning with the traceback, repeated at most
    once per ``WARN_INTERVAL_SECONDS`` for the same ``message``; re-raises when internal
    errors are set to raise (under pytest by default).
    """
    if _should_raise():
        raise  # noqa: PLE0704 - re-raise the exception being handled
    warn_limited("otelfeedback internal error: %s", message, exc_info=sys.exc_info())
