"""OpenAI auto-instrumentation: a span per model call, for every client or for one.

::

    import otelfeedback

    otelfeedback.instrument_openai()      # or otelfeedback.openai.autolog()

Importing this package does not import ``openai`` and patches nothing.
"""

from otelfeedback.instrumentation.openai.instrumentor import (
    SUPPORTED_VERSIONS,
    OpenAIInstrumentation,
    instrument_openai,
    uninstrument_openai,
)

__all__ = [
    "SUPPORTED_VERSIONS",
    "OpenAIInstrumentation",
    "instrument_openai",
    "uninstrument_openai",
]
