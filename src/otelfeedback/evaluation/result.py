"""What ``evaluate`` returns: ``EvaluationResult`` (run id, metrics, rows) and the metric
arithmetic.

Metrics are ``<feedback name>/<aggregation>`` over every value of that name: ``True`` and
``"yes"`` count as 1, ``False`` and ``"no"`` as 0, numbers as they are; other values (text,
lists, objects) and errors are left out. A row **passes** when ``predict_fn`` did not fail, no
scorer failed, and every yes/no or boolean value is yes/True.
"""

from __future__ import annotations

import importlib
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from otelfeedback.assessments.entities import Feedback
from otelfeedback.store.frames import require_pandas


def numeric(value: Any) -> float | None:
    """The number a value counts as in metrics, or None when it does not count."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "yes":
            return 1.0
        if lowered == "no":
            return 0.0
    return None


def verdict(value: Any) -> bool | None:
    """True/False for a yes/no or boolean value, None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return value.strip().lower() == "yes"
    return None


def aggregate(values: list[float], how: str) -> float:
    """One aggregation of a non-empty list (``p90``: linear interpolation)."""
    if how == "mean":
        return math.fsum(values) / len(values)
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    if how == "median":
        return float(statistics.median(values))
    if how == "variance":
        return float(statistics.pvariance(values))
    if how == "sum":
        return math.fsum(values)
    if how == "count":
        return float(len(values))
    ordered = sorted(values)
    position = 0.9 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def compute_metrics(
    rows: list[RowResult], aggregations: dict[str, tuple[str, ...]]
) -> dict[str, float]:
    """Metrics over the rows' feedback (``aggregations``: per feedback name; default mean)."""
    values: dict[str, list[float]] = {}
    for row in rows:
        for feedback in row.results:
            if feedback.error is not None:
                continue
            number = numeric(feedback.value)
            if number is not None:
                values.setdefault(feedback.name, []).append(number)
    metrics = {}
    for name in sorted(values):
        for how in aggregations.get(name, ("mean",)):
            metrics[f"{name}/{how}"] = aggregate(values[name], how)
    return metrics


@dataclass
class RowResult:
    """One evaluated row.

    Attributes:
        index: its position in ``data``.
        trace_id: the trace its results are on (None when ``predict_fn`` made none).
        inputs / outputs / expectations: what was scored.
        results: the feedback its scorers gave (errors included), as recorded.
        error: why ``predict_fn`` failed, if it did.
    """

    index: int
    trace_id: str | None
    inputs: Any
    outputs: Any
    expectations: dict[str, Any]
    results: list[Feedback] = field(default_factory=list)
    error: str | None = None
    dataset_record_id: str | None = None

    @property
    def passed(self) -> bool:
        if self.error is not None:
            return False
        for feedback in self.results:
            if feedback.error is not None or verdict(feedback.value) is False:
                return False
        return True

    def columns(self) -> dict[str, Any]:
        """``<name>/value``, ``<name>/rationale``, ``<name>/error`` (several results of a
        name, e.g. one per retrieved document, give lists)."""
        grouped: dict[str, list[Feedback]] = {}
        for feedback in self.results:
            grouped.setdefault(feedback.name, []).append(feedback)
        out: dict[str, Any] = {}
        for name, items in grouped.items():
            cells = {
                "value": [f.value for f in items],
                "rationale": [f.rationale for f in items],
                "error": [
                    f.error.error_message or f.error.error_code if f.error else None for f in items
                ],
            }
            for key, cell in cells.items():
                out[f"{name}/{key}"] = cell[0] if len(cell) == 1 else cell
        return out


@dataclass
class EvaluationResult:
    """What ``evaluate`` returns.

    Attributes:
        run_id: the run's id (``search_traces(run_id=...)``, the UI's run page).
        name: the run's name.
        metrics: ``<name>/mean`` etc. (see the module docstring).
        rows: one ``RowResult`` per row of ``data``, in order.
        errors: how many results failed, per scorer name, and ``predict_fn`` failures.
    """

    run_id: str
    name: str
    metrics: dict[str, float]
    rows: list[RowResult]
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> list[bool]:
        """Per row, in order: whether it passed (see the module docstring)."""
        return [row.passed for row in self.rows]

    def to_pandas(self) -> Any:
        """One row per row: ``trace_id``, ``inputs``, ``outputs``, ``expectations``, each
        result's ``<name>/value``, ``/rationale``, ``/error``, then ``passed`` and ``error``.

        Raises:
            MissingExtraError: pandas is not installed.
        """
        require_pandas()
        pd: Any = importlib.import_module("pandas")

        records = [
            {
                "trace_id": row.trace_id,
                "inputs": row.inputs,
                "outputs": row.outputs,
                "expectations": row.expectations,
                **row.columns(),
                "passed": row.passed,
                "error": row.error,
            }
            for row in self.rows
        ]
        return pd.DataFrame.from_records(records)

    def __repr__(self) -> str:
        return (
            f"<EvaluationResult run {self.run_id} {self.name!r}: {len(self.rows)} rows, "
            f"metrics {self.metrics}>"
        )
