"""The one place where otelfeedback swallows its own errors.

Instrumentation must never break the host app, so internal failures are logged (once per
message, with the traceback) and the app carries on. Under pytest they are raised instead, so
our own bugs fail our tests; ``OTELFEEDBACK_RAISE_INTERNAL_ERRORS`` overrides either way.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

logger = logging.getLogger("otelfeedback")

_seen: set[str] = set()
_lock = threading.Lock()


def _should_raise() -> bool:
    raw = os.environ.get("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    return "PYTEST_CURRENT_TEST" in os.environ


def log_internal_error(message: str) -> None:
    """Report the exception being handled as an otelfeedback internal error.

    Call it inside an ``except`` block. Logs a warning with the traceback the first time a
    given ``message`` is seen, at debug level after that; re-raises when internal errors are
    set to raise (under pytest by default).
    """
    if _should_raise():
        raise  # noqa: PLE0704 - re-raise the exception being handled
    with _lock:
        first = message not in _seen
        _seen.add(message)
    exc_info = sys.exc_info()
    if first:
        logger.warning("otelfeedback internal error: %s", message, exc_info=exc_info)
    else:
        logger.debug("otelfeedback internal error: %s", message, exc_info=exc_info)
