"""Comparing two runs: metric deltas, and per scorer the rows that regressed or improved.

Rows of the two runs are paired by their inputs (``runs.inputs_key``; repeated inputs pair in
order). A result counts as its number (yes/True = 1, no/False = 0, numbers as they are; the
mean when a row has several, e.g. one per document). It **regressed** when the candidate's
number is lower or the candidate failed where the base did not, **improved** the other way
round, and **changed** when two values that are not numbers differ. For a scorer declared
with ``greater_is_better=False`` (a length, a latency) a lower number is the better one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.evaluation import runs
from otelfeedback.evaluation.result import numeric
from otelfeedback.store.base import TraceStore

_ERROR = object()


@dataclass(frozen=True)
class MetricDelta:
    name: str
    base: float | None
    candidate: float | None
    greater_is_better: bool = True

    @property
    def delta(self) -> float | None:
        if self.base is None or self.candidate is None:
            return None
        return self.candidate - self.base

    @property
    def better(self) -> bool | None:
        """Whether the candidate is better on this metric (None: same, or not comparable)."""
        delta = self.delta
        if not delta:
            return None
        return (delta > 0) == self.greater_is_better

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base": self.base,
            "candidate": self.candidate,
            "delta": self.delta,
            "better": self.better,
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


def _direction(base: Any, candidate: Any, greater_is_better: bool) -> str | None:
    if base is _ERROR or candidate is _ERROR:
        if base is candidate:
            return None
        return "regressed" if candidate is _ERROR else "improved"
    if isinstance(base, float) and isinstance(candidate, float):
        if candidate == base:
            return None
        return "improved" if (candidate > base) == greater_is_better else "regressed"
    return "changed" if base != candidate else None


def _lower_is_better(*found: runs.EvaluationRun) -> set[str]:
    """Scorer names declared with ``greater_is_better=False``."""
    return {
        str(s.get("name")) for r in found for s in r.scorers if s.get("greater_is_better") is False
    }


def _scorer_of(result: dict[str, Any]) -> str:
    metadata = result.get("metadata")
    scorer = metadata.get(sc.SCORER) if isinstance(metadata, dict) else None
    return str(scorer or result.get("name"))


def compare_runs(store: TraceStore, base_id: str, candidate_id: str) -> RunComparison:
    """Compare ``candidate_id`` against ``base_id``.

    Raises:
        InvalidArgumentError: a malformed run id.
        NotFoundError: either run does not exist.
    """
    base = runs.get_run(store, runs.check_run_id(base_id))
    candidate = runs.get_run(store, runs.check_run_id(candidate_id))
    lower = _lower_is_better(base, candidate)
    base_rows = runs.run_rows(store, base.run_id)
    candidate_rows = runs.run_rows(store, candidate.run_id)
    lower_names = {  # result names whose scorer wants lower values
        str(x.get("name"))
        for row in (*base_rows, *candidate_rows)
        for x in row.results
        if _scorer_of(x) in lower
    } | lower
    names = sorted(set(base.metrics) | set(candidate.metrics))
    metrics = [
        MetricDelta(
            n,
            base.metrics.get(n),
            candidate.metrics.get(n),
            n.rsplit("/", 1)[0] not in lower_names,
        )
        for n in names
    ]
    comparison = RunComparison(base, candidate, metrics)
    waiting: dict[str, list[runs.RunRow]] = defaultdict(list)
    for row in base_rows:
        waiting[row.key].append(row)
    for row in candidate_rows:
        queue = waiting.get(row.key)
        if not queue:
            comparison.only_in_candidate += 1
            continue
        old = queue.pop(0)
        comparison.paired += 1
        before, after = _summary(old), _summary(row)
        for name in sorted(set(before) & set(after)):
            direction = _direction(before[name][0], after[name][0], name not in lower_names)
            if direction is not None:
                comparison.changes.append(
                    RowChange(name, direction, row.inputs, before[name][1], after[name][1])
                )
    comparison.only_in_base = sum(len(q) for q in waiting.values())
    return comparison
