"""Comparing two runs: metric deltas, and per scorer the rows that regressed or improved.

Rows of the two runs are paired by their inputs (``runs.inputs_key``; repeated inputs pair in
order). A result counts as its number (yes/True = 1, no/False = 0, numbers as they are; the
mean when a row has several, e.g. one per document). It **regressed** when the candidate's
number is lower or the candidate failed where the base did not, **improved** the other way
round, and **changed** when two values that are not numbers differ.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from otelfeedback.evaluation import runs
from otelfeedback.evaluation.result import numeric
from otelfeedback.store.base import TraceStore

_ERROR = object()


@dataclass(frozen=True)
class MetricDelta:
    name: str
    base: float | None
    candidate: float | None

    @property
    def delta(self) -> float | None:
        if self.base is None or self.candidate is None:
            return None
        return self.candidate - self.base

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base": self.base,
            "candidate": self.candidate,
            "delta": self.delta,
        }


@dataclass(frozen=True)
class RowChange:
    """One result of one row that differs between the runs."""

    name: str
    direction: str  # "regressed", "improved" or "changed"
    inputs: Any
    base: dict[str, Any]  # {"index", "trace_id", "value", "rationale", "error"}
    candidate: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "inputs": self.inputs,
            "base": self.base,
            "candidate": self.candidate,
        }


@dataclass
class RunComparison:
    """``compare_runs``' answer; ``to_dict()`` is its JSON."""

    base: runs.EvaluationRun
    candidate: runs.EvaluationRun
    metrics: list[MetricDelta]
    changes: list[RowChange] = field(default_factory=list)
    paired: int = 0
    only_in_base: int = 0
    only_in_candidate: int = 0

    def by_scorer(self, direction: str) -> dict[str, list[RowChange]]:
        grouped: dict[str, list[RowChange]] = defaultdict(list)
        for change in self.changes:
            if change.direction == direction:
                grouped[change.name].append(change)
        return dict(sorted(grouped.items()))

    @property
    def regressed(self) -> dict[str, list[RowChange]]:
        return self.by_scorer("regressed")

    @property
    def improved(self) -> dict[str, list[RowChange]]:
        return self.by_scorer("improved")

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base.to_dict(),
            "candidate": self.candidate.to_dict(),
            "metrics": [m.to_dict() for m in self.metrics],
            "paired_rows": self.paired,
            "only_in_base": self.only_in_base,
            "only_in_candidate": self.only_in_candidate,
            "regressed": {k: [c.to_dict() for c in v] for k, v in self.regressed.items()},
            "improved": {k: [c.to_dict() for c in v] for k, v in self.improved.items()},
            "changed": {k: [c.to_dict() for c in v] for k, v in self.by_scorer("changed").items()},
        }


def _summary(row: runs.RunRow) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Per result name: (what it counts as, what to show)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in row.results:
        grouped[str(result.get("name"))].append(result)
    out = {}
    for name, results in grouped.items():
        shown = {
            "index": row.index,
            "trace_id": row.trace_id,
            "value": results[0].get("value")
            if len(results) == 1
            else [r.get("value") for r in results],
            "rationale": results[0].get("rationale"),
            "error": next((r["error"] for r in results if r.get("error")), None),
        }
        if shown["error"] is not None:
            out[name] = (_ERROR, shown)
            continue
        numbers = [numeric(r.get("value")) for r in results]
        if all(n is not None for n in numbers):
            out[name] = (sum(n for n in numbers if n is not None) / len(numbers), shown)
        else:
            out[name] = (shown["value"], shown)
    return out


def _direction(base: Any, candidate: Any) -> str | None:
    if base is _ERROR or candidate is _ERROR:
        if base is candidate:
            return None
        return "regressed" if candidate is _ERROR else "improved"
    if isinstance(base, float) and isinstance(candidate, float):
        if candidate < base:
            return "regressed"
        return "improved" if candidate > base else None
    return "changed" if base != candidate else None


def compare_runs(store: TraceStore, base_id: str, candidate_id: str) -> RunComparison:
    """Compare ``candidate_id`` against ``base_id``.

    Raises:
        InvalidArgumentError: a malformed run id.
        NotFoundError: either run does not exist.
    """
    base = runs.get_run(store, runs.check_run_id(base_id))
    candidate = runs.get_run(store, runs.check_run_id(candidate_id))
    names = sorted(set(base.metrics) | set(candidate.metrics))
    metrics = [MetricDelta(n, base.metrics.get(n), candidate.metrics.get(n)) for n in names]
    comparison = RunComparison(base, candidate, metrics)
    waiting: dict[str, list[runs.RunRow]] = defaultdict(list)
    for row in runs.run_rows(store, base.run_id):
        waiting[row.key].append(row)
    for row in runs.run_rows(store, candidate.run_id):
        queue = waiting.get(row.key)
        if not queue:
            comparison.only_in_candidate += 1
            continue
        old = queue.pop(0)
        comparison.paired += 1
        before, after = _summary(old), _summary(row)
        for name in sorted(set(before) & set(after)):
            direction = _direction(before[name][0], after[name][0])
            if direction is not None:
                comparison.changes.append(
                    RowChange(name, direction, row.inputs, before[name][1], after[name][1])
                )
    comparison.only_in_base = sum(len(q) for q in waiting.values())
    return comparison
