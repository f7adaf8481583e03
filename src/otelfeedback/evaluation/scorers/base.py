"""``Scorer``: what ``evaluate`` runs on each row, and ``@scorer`` for code scorers.

A scorer declares the row fields it reads as parameters of its ``__call__`` (any of
``inputs``, ``outputs``, ``expectations``, ``trace``) and returns a bool, a number, a string,
a ``Feedback``, a list of those, or None. ``run`` turns whatever it returns — or raises — into
a list of ``Feedback``: an exception, or a value JSON cannot hold, becomes an error
feedback; nothing a scorer does can stop an evaluation.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, overload

from otelfeedback import semconv as sc
from otelfeedback.assessments import validation as v
from otelfeedback.assessments.entities import (
    AssessmentError,
    AssessmentSource,
    Expectation,
    Feedback,
)
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.semconv import AssessmentSourceType

FIELDS = ("inputs", "outputs", "expectations", "trace")
AGGREGATIONS = ("mean", "min", "max", "median", "variance", "p90", "sum", "count")
_DEFAULT_SOURCE = AssessmentSource()


def declared_fields(func: Callable[..., Any], what: str) -> tuple[str, ...]:
    """The row fields ``func`` takes (all of them if it takes ``**kwargs``).

    Raises:
        InvalidArgumentError: a required parameter that is not a row field.
    """
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return FIELDS
    names: list[str] = []
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            return FIELDS
        if p.name in FIELDS and p.kind is not p.POSITIONAL_ONLY:
            names.append(p.name)
        elif p.default is p.empty and p.kind is not p.VAR_POSITIONAL:
            raise InvalidArgumentError(
                what,
                f"parameter {p.name!r} is not a row field; a scorer takes any of "
                f"{', '.join(FIELDS)} (by keyword)",
            )
    return tuple(names)


def check_aggregations(aggregations: Any) -> tuple[str, ...]:
    if aggregations is None:
        return ("mean",)
    if isinstance(aggregations, str) or not all(a in AGGREGATIONS for a in aggregations):
        raise InvalidArgumentError(
            "aggregations", f"expected a list of {', '.join(AGGREGATIONS)}, got {aggregations!r}"
        )
    return tuple(aggregations)


class Scorer:
    """Base class of every scorer. Subclass it and implement ``__call__`` with the row
    fields you need, or use ``@scorer`` on a function.

    Attributes:
        name: the feedback name its results get (and the metric prefix).
        aggregations: metrics computed over its values (``mean`` by default).
    """

    #: ``"code"`` or ``"llm_judge"``.
    kind = "code"
    #: Whether a higher value is better (comparing runs: what counts as a regression).
    greater_is_better = True

    def __init__(self, name: str | None = None, aggregations: Any = None) -> None:
        self.name = v.check_name(name or type(self).__name__.lower(), "name")
        self.aggregations = check_aggregations(aggregations)
        self.fields = declared_fields(self.__call__, f"{type(self).__name__}.__call__")

    def __call__(self, *args: Any, **fields: Any) -> Any:
        raise NotImplementedError("implement __call__(self, *, inputs, outputs, ...)")

    # -- what the harness asks of it ------------------------------------------------------
    @property
    def judge_model(self) -> str | None:
        """The judge model's URI for an LLM judge, else None."""
        return None

    @property
    def prompt_hash(self) -> str | None:
        return None

    @property
    def source(self) -> AssessmentSource:
        return AssessmentSource(AssessmentSourceType.CODE, self.name)

    def metadata(self) -> dict[str, Any]:
        """The metadata every result of this scorer carries."""
        return {sc.SCORER: self.name}

    def prepare(self) -> None:
        """Check everything a call needs (a judge's model and endpoint) before any call.

        Raises:
            InvalidArgumentError, ConfigurationError, MissingExtraError.
        """

    def check_row(self, where: str, expectations: Mapping[str, Any], has_trace: bool) -> None:
        """Raise ``InvalidArgumentError`` naming ``where`` when a row lacks what this scorer
        needs (checked for every row before any call)."""

    def describe(self) -> dict[str, Any]:
        """How the run record lists it."""
        return {
            "name": self.name,
            "type": self.kind,
            "class": type(self).__name__,
            "judge_model": self.judge_model,
            "prompt_hash": self.prompt_hash,
            "aggregations": list(self.aggregations),
            "greater_is_better": self.greater_is_better,
        }

    def run(self, **row: Any) -> list[Feedback]:
        """Call the scorer with the fields it declares; its results (or its error) as
        feedback, never raising (``KeyboardInterrupt`` and the like excepted)."""
        try:
            result = self(**{name: row.get(name) for name in self.fields})
            if inspect.isawaitable(result):
                result = asyncio.run(_awaited(result))
            return self.normalize(result)
        except Exception as exc:
            return [self.error_feedback(AssessmentError.from_exception(exc))]

    # -- building results -----------------------------------------------------------------
    def feedback(self, value: Any, rationale: str | None = None, **extra: Any) -> Feedback:
        """A result of this scorer: its name, source and metadata."""
        metadata = {**self.metadata(), **extra.pop("metadata", {})}
        return Feedback(
            name=extra.pop("name", self.name),
            value=value,
            rationale=rationale,
            source=self.source,
            metadata=metadata,
            **extra,
        )

    def error_feedback(self, error: AssessmentError, **extra: Any) -> Feedback:
        return self.feedback(None, error=error, **extra)

    def normalize(self, result: Any) -> list[Feedback]:
        """Feedback from what ``__call__`` returned (see the module docstring)."""
        if result is None:
            return []
        items = list(result) if isinstance(result, (list, tuple)) else [result]
        return [self._one(item) for item in items]

    def _one(self, item: Any) -> Feedback:
        if isinstance(item, Expectation) or not isinstance(item, (Feedback, bool, int, float, str)):
            return self.error_feedback(
                AssessmentError(
                    "SCORER_RETURN_TYPE",
                    f"{self.name} returned a {type(item).__name__}; return a bool, number, "
                    "string, Feedback, a list of those, or None",
                )
            )
        if not isinstance(item, Feedback):
            if isinstance(item, float) and not math.isfinite(item):
                return self.error_feedback(
                    AssessmentError("SCORER_VALUE", f"{self.name} returned {item!r}")
                )
            return self.feedback(item)
        feedback = item
        if feedback.name == "feedback":
            feedback.name = self.name
        if feedback.source == _DEFAULT_SOURCE:
            feedback.source = self.source
        feedback.metadata = {**self.metadata(), **(feedback.metadata or {})}
        if feedback.value is None and feedback.error is None:
            return self.error_feedback(
                AssessmentError("SCORER_VALUE", f"{self.name} returned a Feedback with no value")
            )
        value = feedback.value
        if isinstance(value, (str, bool, int)) and not isinstance(value, float):
            return feedback  # already plain JSON (the common case: a judge's verdict)
        try:
            feedback.value = v.check_value(value)
        except InvalidArgumentError as exc:
            return self.error_feedback(AssessmentError("SCORER_VALUE", str(exc)))
        return feedback


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


class FunctionScorer(Scorer):
    """A scorer made by ``@scorer`` from a function."""

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None = None,
        aggregations: Any = None,
        greater_is_better: bool = True,
    ) -> None:
        if not callable(func):
            raise InvalidArgumentError("func", f"expected a function, got {type(func).__name__}")
        self.func = func
        self.greater_is_better = bool(greater_is_better)
        super().__init__(name or getattr(func, "__name__", None) or "scorer", aggregations)
        self.fields = declared_fields(func, f"@scorer {self.name}")
        self.__doc__ = func.__doc__

    def __call__(self, **fields: Any) -> Any:
        return self.func(**fields)

    def __repr__(self) -> str:
        return f"<scorer {self.name}>"


@overload
def scorer(func: Callable[..., Any], /) -> FunctionScorer: ...


@overload
def scorer(
    *, name: str | None = None, aggregations: Any = None, greater_is_better: bool = True
) -> Callable[[Callable[..., Any]], FunctionScorer]: ...


def scorer(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    aggregations: Any = None,
    greater_is_better: bool = True,
) -> FunctionScorer | Callable[[Callable[..., Any]], FunctionScorer]:
    """Make a code scorer of a function that takes any of ``inputs``, ``outputs``,
    ``expectations``, ``trace`` (by name) and returns a bool, number, string, ``Feedback``,
    a list of those, or None. Sync or async.

    Example::

        @scorer
        def exact_match(outputs, expectations) -> bool:
            return outputs == expectations["expected_response"]

    Args:
        name: the feedback name (default: the function's name).
        aggregations: metrics over its values, any of ``mean`` (the default), ``min``,
            ``max``, ``median``, ``variance``, ``p90``, ``sum``, ``count``.
        greater_is_better: False for values where less is better (a length, a latency):
            comparing runs then counts a rise as a regression.

    Raises:
        InvalidArgumentError: a parameter that is not a row field, or bad aggregations.
    """
    if func is not None:
        return FunctionScorer(func, name, aggregations, greater_is_better)
    return lambda f: FunctionScorer(f, name, aggregations, greater_is_better)
