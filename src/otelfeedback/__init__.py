"""otelfeedback: OpenTelemetry-native tracing, human feedback and evaluation for GenAI apps.

::

    import otelfeedback

    @otelfeedback.trace
    def answer(question: str) -> str: ...

Importing the package does no work: no provider, no files, no threads. The first span (or an
explicit ``otelfeedback.configure()``) sets things up.
"""

from otelfeedback.assessments import (
    AssessmentError,
    AssessmentSource,
    Expectation,
    Feedback,
)
from otelfeedback.errors import (
    ConfigurationError,
    FilterSyntaxError,
    InvalidArgumentError,
    MissingExtraError,
    NotFoundError,
    OtelFeedbackError,
)
from otelfeedback.instrumentation.openai import instrument_openai, uninstrument_openai
from otelfeedback.semconv import AssessmentSourceType, SpanType
from otelfeedback.setup import Configuration, configure, flush, get_configuration, reset
from otelfeedback.store import Trace, get_trace, search_traces
from otelfeedback.store.assessment_api import (
    delete_assessment,
    get_assessment,
    log_expectation,
    log_feedback,
    override_feedback,
    update_assessment,
)
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
    "AssessmentError",
    "AssessmentSource",
    "AssessmentSourceType",
    "Configuration",
    "ConfigurationError",
    "Expectation",
    "Feedback",
    "FilterSyntaxError",
    "InvalidArgumentError",
    "LiveSpan",
    "MissingExtraError",
    "NotFoundError",
    "OtelFeedbackError",
    "SpanType",
    "Trace",
    "__version__",
    "configure",
    "delete_assessment",
    "flush",
    "get_assessment",
    "get_configuration",
    "get_current_trace_id",
    "get_last_active_trace_id",
    "get_trace",
    "instrument_openai",
    "log_expectation",
    "log_feedback",
    "override_feedback",
    "propagate_context",
    "reset",
    "search_traces",
    "start_span",
    "trace",
    "uninstrument_openai",
    "update_assessment",
    "update_current_trace",
    "using_metadata",
    "using_session",
    "using_tags",
    "using_user",
]


def __getattr__(name: str) -> object:
    # ``otelfeedback.openai.autolog()`` without importing ``otelfeedback.openai`` first.
    if name == "openai":
        import importlib

        return importlib.import_module("otelfeedback.openai")
    raise AttributeError(f"module 'otelfeedback' has no attribute {name!r}")
