"""otelfeedback: OpenTelemetry-native tracing, human feedback and evaluation for GenAI apps.

::

    import otelfeedback

    @otelfeedback.trace
    def answer(question: str) -> str: ...

Importing the package does no work: no provider, no files, no threads, and it loads neither
the OpenTelemetry SDK nor the store (each name below is imported on first use). The first
span (or an explicit ``otelfeedback.configure()``) sets things up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from otelfeedback._internal import store_schemes
from otelfeedback.tracing import _state

if TYPE_CHECKING:
    from otelfeedback.api.assessments import (
        delete_assessment,
        get_assessment,
        log_expectation,
        log_feedback,
        override_feedback,
        update_assessment,
    )
    from otelfeedback.api.traces import get_trace, search_traces
    from otelfeedback.assessments.entities import (
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
        StoreWriteError,
    )
    from otelfeedback.evaluation import EvaluationResult, evaluate
    from otelfeedback.instrumentation.openai import instrument_openai, uninstrument_openai
    from otelfeedback.labeling import (
        InputCategorical,
        InputCategoricalList,
        InputNumeric,
        InputText,
        InputTextList,
        LabelingSession,
        LabelSchema,
        create_label_schema,
        create_labeling_session,
        delete_label_schema,
        delete_labeling_session,
        get_label_schema,
        get_labeling_session,
        list_label_schemas,
        list_labeling_sessions,
    )
    from otelfeedback.semconv import AssessmentSourceType, SpanType
    from otelfeedback.setup import Configuration, configure, flush, get_configuration, reset
    from otelfeedback.store.entities import Trace
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

    __version__: str

#: Where each public name lives; imported on first access.
_HOMES = {
    "otelfeedback.api.assessments": (
        "delete_assessment",
        "get_assessment",
        "log_expectation",
        "log_feedback",
        "override_feedback",
        "update_assessment",
    ),
    "otelfeedback.api.traces": ("get_trace", "search_traces"),
    "otelfeedback.assessments.entities": (
        "AssessmentError",
        "AssessmentSource",
        "Expectation",
        "Feedback",
    ),
    "otelfeedback.errors": (
        "ConfigurationError",
        "FilterSyntaxError",
        "InvalidArgumentError",
        "MissingExtraError",
        "NotFoundError",
        "OtelFeedbackError",
        "StoreWriteError",
    ),
    "otelfeedback.evaluation": ("EvaluationResult", "evaluate"),
    "otelfeedback.instrumentation.openai": ("instrument_openai", "uninstrument_openai"),
    "otelfeedback.labeling": (
        "InputCategorical",
        "InputCategoricalList",
        "InputNumeric",
        "InputText",
        "InputTextList",
        "LabelSchema",
        "LabelingSession",
        "create_label_schema",
        "create_labeling_session",
        "delete_label_schema",
        "delete_labeling_session",
        "get_label_schema",
        "get_labeling_session",
        "list_label_schemas",
        "list_labeling_sessions",
    ),
    "otelfeedback.semconv": ("AssessmentSourceType", "SpanType"),
    "otelfeedback.setup": ("Configuration", "configure", "flush", "get_configuration", "reset"),
    "otelfeedback.store.entities": ("Trace",),
    "otelfeedback.tracing": (
        "LiveSpan",
        "get_current_trace_id",
        "get_last_active_trace_id",
        "propagate_context",
        "start_span",
        "trace",
        "update_current_trace",
        "using_metadata",
        "using_session",
        "using_tags",
        "using_user",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
#: Subpackages reachable as attributes before they are imported (``otelfeedback.scorers``).
_SUBMODULES = frozenset({"openai", "scorers", "evaluation"})

__all__ = [
    "AssessmentError",
    "AssessmentSource",
    "AssessmentSourceType",
    "Configuration",
    "ConfigurationError",
    "EvaluationResult",
    "Expectation",
    "Feedback",
    "FilterSyntaxError",
    "InputCategorical",
    "InputCategoricalList",
    "InputNumeric",
    "InputText",
    "InputTextList",
    "InvalidArgumentError",
    "LabelSchema",
    "LabelingSession",
    "LiveSpan",
    "MissingExtraError",
    "NotFoundError",
    "OtelFeedbackError",
    "SpanType",
    "StoreWriteError",
    "Trace",
    "__version__",
    "configure",
    "create_label_schema",
    "create_labeling_session",
    "delete_assessment",
    "delete_label_schema",
    "delete_labeling_session",
    "evaluate",
    "flush",
    "get_assessment",
    "get_configuration",
    "get_current_trace_id",
    "get_label_schema",
    "get_labeling_session",
    "get_last_active_trace_id",
    "get_trace",
    "instrument_openai",
    "list_label_schemas",
    "list_labeling_sessions",
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


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later accesses skip this hook
        return value
    if name == "__version__":
        from otelfeedback._internal.meta import package_version

        return package_version()
    if name in _SUBMODULES:  # ``otelfeedback.openai.autolog()`` without importing it first
        return importlib.import_module(f"otelfeedback.{name}")
    raise AttributeError(f"module 'otelfeedback' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def _configure_default() -> None:
    from otelfeedback import setup

    setup.configure_default()


# The first span configures the defaults: only a function reference is stored here.
_state.register_default_configurer(_configure_default)


def _sql_store_exporter(url: str) -> Any:
    from otelfeedback.store.sql.exporter import SqlStoreSpanExporter

    return SqlStoreSpanExporter(url)


# configure(store="postgresql://..."): the store's own exporter (setup never imports the store).
store_schemes.register("postgresql", _sql_store_exporter)
store_schemes.register("postgres", _sql_store_exporter)
