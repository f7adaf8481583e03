"""otelfeedback: OpenTelemetry-native tracing, human feedback and evaluation for GenAI apps.

::

    import otelfeedback

    @otelfeedback.trace
    def answer(question: str) -> str: ...

Importing the package does no work: no provider, no files, no threads. The first span (or an
explicit ``otelfeedback.configure()``) sets things up.
"""

from otelfeedback.errors import (
    ConfigurationError,
    FilterSyntaxError,
    InvalidArgumentError,
    MissingExtraError,
    NotFoundError,
    OtelFeedbackError,
)
from otelfeedback.semconv import AssessmentSourceType, SpanType
from otelfeedback.setup import Configuration, configure, flush, get_configuration, reset
from otelfeedback.tracing import (
    LiveSpan,
    get_current_trace_id,
    get_last_active_trace_id,
    propagate_context,
    start_span,
    trace,
    update_current_trace,
    using_metadata,
    using_session,
    using_tags,
    using_user,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "AssessmentSourceType",
    "Configuration",
    "ConfigurationError",
    "FilterSyntaxError",
    "InvalidArgumentError",
    "LiveSpan",
    "MissingExtraError",
    "NotFoundError",
    "OtelFeedbackError",
    "SpanType",
    "__version__",
    "configure",
    "flush",
    "get_configuration",
    "get_current_trace_id",
    "get_last_active_trace_id",
    "propagate_context",
    "reset",
    "start_span",
    "trace",
    "update_current_trace",
    "using_metadata",
    "using_session",
    "using_tags",
    "using_user",
]
