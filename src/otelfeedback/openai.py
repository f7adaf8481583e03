"""``otelfeedback.openai.autolog()``: trace every OpenAI call with one line.

::

    import otelfeedback.openai

    otelfeedback.openai.autolog()

The same as ``otelfeedback.instrument_openai()``; ``autolog(disable=True)`` is
``otelfeedback.uninstrument_openai()``.
"""

from __future__ import annotations

from otelfeedback.instrumentation.openai import (
    OpenAIInstrumentation,
    instrument_openai,
    uninstrument_openai,
)
from otelfeedback.instrumentation.openai.content import Redactor


def autolog(
    disable: bool = False,
    *,
    capture_content: bool | None = None,
    redact: Redactor | None = None,
    attributes: str | None = None,
) -> OpenAIInstrumentation | None:
    """Trace every OpenAI / AsyncOpenAI client (``disable=True`` stops it).

    Args:
        disable: stop tracing OpenAI calls and restore the SDK.
        capture_content: record prompts and completions (default: the configured
            ``capture_content``, on unless turned off).
        redact: a function ``text -> text`` applied to everything recorded as content.
        attributes: the attribute profile, ``"lean"`` or ``"full"`` (default: the
            configured ``openai_attributes``, ``lean`` unless set).

    Returns:
        The handle of ``instrument_openai()`` (``None`` when disabling).

    Raises:
        MissingExtraError: ``openai`` is not installed.
        ConfigurationError: ``attributes`` is neither ``"lean"`` nor ``"full"``.
    """
    if disable:
        uninstrument_openai()
        return None
    return instrument_openai(capture_content=capture_content, redact=redact, attributes=attributes)


__all__ = ["autolog", "instrument_openai", "uninstrument_openai"]
