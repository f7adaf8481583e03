"""Getting a row's trace: calling ``predict_fn(**inputs)`` (a new trace per row, tied to the
run), or opening a small trace for a row given with its outputs.

Each call runs in an empty context, so it starts its own trace even from a worker thread
that ran another row before. A ``predict_fn`` decorated with ``@otelfeedback.trace`` is its
trace's root; any other function (sync or async) is traced for the call under its own name.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.assessments.entities import AssessmentError
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.evaluation.data import MISSING, Row
from otelfeedback.semconv import SpanType
from otelfeedback.tracing import (
    LiveSpan,
    _state,
    get_last_active_trace_id,
    trace,
    using_metadata,
    using_tags,
)
from otelfeedback.tracing.decorator import is_traced
from otelfeedback.tracing.span import begin, finish, type_attributes

#: Name of the root span recorded for a row given with its outputs.
ROW_SPAN_NAME = "evaluation_row"


@dataclass
class Prediction:
    """A row's trace and outputs; ``error`` when ``predict_fn`` raised; ``open_span``: the
    row's root span while it is scored (rows given with their outputs)."""

    trace_id: str | None
    outputs: Any
    error: AssessmentError | None = None
    open_span: Any = None


class Predictor:
    """``predict_fn`` checked and ready to call once per row."""

    def __init__(self, predict_fn: Callable[..., Any]) -> None:
        if not callable(predict_fn):
            raise InvalidArgumentError(
                "predict_fn", f"expected a function, got {type(predict_fn).__name__}"
            )
        self.name = str(getattr(predict_fn, "__name__", None) or type(predict_fn).__name__)
        try:
            self.signature: inspect.Signature | None = inspect.signature(predict_fn)
        except (TypeError, ValueError):
            self.signature = None
        target = getattr(predict_fn, "__call__", predict_fn)  # noqa: B004
        self.is_async = inspect.iscoroutinefunction(predict_fn) or (
            not inspect.isfunction(predict_fn) and inspect.iscoroutinefunction(target)
        )
        self.func = predict_fn if is_traced(predict_fn) else trace(name=self.name)(predict_fn)

    def check(self, rows: Sequence[Row]) -> None:
        """Every row's inputs are a dict that binds to ``predict_fn``'s parameters.

        Raises:
            InvalidArgumentError: naming the row (nothing has been called yet).
        """
        for row in rows:
            if not isinstance(row.inputs, dict):
                raise InvalidArgumentError(
                    f"{row.where}.inputs",
                    f"predict_fn is called as {self.name}(**inputs): expected a dict, got "
                    f"{type(row.inputs).__name__}",
                )
            if self.signature is None:
                continue
            try:
                self.signature.bind(**row.inputs)
            except TypeError as exc:
                raise InvalidArgumentError(
                    f"{row.where}.inputs",
                    f"keys {sorted(row.inputs)} do not match {self.name}{self.signature}: {exc}",
                ) from None

    def __call__(self, row: Row, run_id: str) -> Prediction:
        return contextvars.Context().run(self._in_context, row, run_id)

    def _in_context(self, row: Row, run_id: str) -> Prediction:
        with using_metadata({sc.RUN_ID: run_id}), using_tags(row.tags):
            if self.is_async:
                return asyncio.run(self._call_async(row.inputs))
            try:
                outputs = self.func(**row.inputs)
            except Exception as exc:
                return Prediction(get_last_active_trace_id(), None, _error(exc))
            return Prediction(get_last_active_trace_id(), outputs)

    async def _call_async(self, inputs: dict[str, Any]) -> Prediction:
        try:
            outputs = await self.func(**inputs)
        except Exception as exc:
            return Prediction(get_last_active_trace_id(), None, _error(exc))
        return Prediction(get_last_active_trace_id(), outputs)


def _error(exc: Exception) -> AssessmentError:
    error = AssessmentError.from_exception(exc)
    return AssessmentError("PREDICT_ERROR", f"{error.error_code}: {exc}", error.stack_trace)


def record_row(row: Row, run_id: str, keep_open: bool = True) -> Prediction:
    """Open the trace of a row given with its outputs: one root span holding the row's inputs
    and outputs, tied to the run. With ``keep_open`` it stays open while the row is scored,
    so the results ride on it as span events (``close_row`` ends it); else it ends at once
    (a scorer that reads the trace needs it in the store)."""
    prediction = contextvars.Context().run(_open_row_span, row, run_id)
    if not keep_open:
        close_row(prediction)
    return prediction


def _open_row_span(row: Row, run_id: str) -> Prediction:
    outputs = None if row.outputs is MISSING else row.outputs
    with using_metadata({sc.RUN_ID: run_id}), using_tags(row.tags):
        state = _state.current()
        otel_span, _, _ = begin(state, ROW_SPAN_NAME, type_attributes(SpanType.CHAIN), False)
    span = LiveSpan(otel_span, state)
    span.set_inputs(row.inputs)
    span.set_outputs(outputs)
    return Prediction(span.trace_id, outputs, open_span=otel_span)


def close_row(prediction: Prediction) -> None:
    """End the row's span opened by ``record_row`` (once; no-op otherwise)."""
    span, prediction.open_span = prediction.open_span, None
    if span is not None:
        contextvars.Context().run(finish, span, None)
