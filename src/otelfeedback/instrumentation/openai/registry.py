"""Which clients are instrumented, and the options in force: read on every call.

Module state, changed only by ``instrument_openai`` / ``uninstrument_openai``. A client
instrumented on its own is remembered by its HTTP connection pool, which the copies made
with ``client.with_options(...)`` share, so those copies are traced too.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from otelfeedback.instrumentation.openai.content import Redactor


@dataclass(frozen=True)
class Options:
    """Per-instrumentation overrides (``None``: follow ``otelfeedback.configure()``)."""

    capture_content: bool | None = None
    redact: Redactor | None = None
    attributes: str | None = None
    """The attribute profile, ``"lean"`` or ``"full"`` (``None``: ``openai_attributes``)."""


everything = False
"""Every OpenAI / AsyncOpenAI client is instrumented."""
clients: weakref.WeakSet[Any] = weakref.WeakSet()
"""The connection pools of clients instrumented one by one."""
options = Options()


def client_key(client: Any) -> Any:
    """What identifies ``client`` (and its copies) in ``clients``."""
    return getattr(client, "_client", client)


def enabled_for(client: Any) -> bool:
    """Whether calls made with ``client`` are traced."""
    if everything:
        return True
    if not clients:
        return False
    try:
        return client_key(client) in clients
    except TypeError:  # unhashable
        return False


def active() -> bool:
    return everything or bool(clients)
