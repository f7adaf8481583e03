"""Getting a row's trace: calling ``predict_fn(**inputs)`` (a new trace per row, tied to the
run), or recording a small trace for a row given with its outputs.

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
from otelfeedback.tracing import (
    get_last_active_trace_id,
    start_span,
    trace,
    using_metadata,
    using_tags,
)
from otelfeedback.tracing.decorator import is_traced

#: Name of the root span recorded for a row given with its outputs.
ROW_SPAN_NAME = "evaluation_row"


@dataclass
class Prediction:
    """A row's trace and outputs; ``error`` when ``predict_fn`` raised."""

    trace_id: str | None
    outputs: Any
    error: AssessmentError | None = None


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


def record_row(row: Row, run_id: str) -> Prediction:
    """A trace with one root span holding a row's inputs and outputs (so its results have a
    trace to live on), tied to the run."""
    return contextvars.Context().run(_record_in_context, row, run_id)


def _record_in_context(row: Row, run_id: str) -> Prediction:
    outputs = None if row.outputs is MISSING else row.outputs
    with (
        using_metadata({sc.RUN_ID: run_id}),
        using_tags(row.tags),
        start_span(ROW_SPAN_NAME, "CHAIN", row.inputs) as span,
    ):
        span.set_outputs(outputs)
        return Prediction(span.trace_id, outputs)
