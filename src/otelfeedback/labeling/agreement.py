"""Agreement between reviewers: percent agreement, Krippendorff's alpha and Fleiss' kappa.

Pure functions over *units* (the items) each holding the values its reviewers gave (missing
values simply absent). Only units with at least two values count: a single rating says
nothing about agreement.

- **Percent agreement**: the mean over units of the share of reviewer pairs that agree
  (Fleiss' ``P̄``); for two reviewers, the share of items they agree on.
- **Krippendorff's alpha**: ``1 - D_o / D_e`` from the coincidence of values within units;
  ``nominal`` for categories (any difference counts 1), ``interval`` for numbers (the squared
  difference). Handles any number of reviewers and missing values. None when it is
  undefined (every value the same: no variation to agree on).
- **Fleiss' kappa**: ``(P̄ - P̄e) / (1 - P̄e)`` over category counts per unit. With the same
  number of ratings per unit it is Fleiss' (1971) statistic; with varying counts each unit's
  agreement is taken over its own pairs (the usual generalisation). None when undefined.

>>> round(percent_agreement([["a", "a"], ["a", "b"]]), 2)
0.5
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelfeedback.labeling.board import DONE, Board
from otelfeedback.labeling.inputs import InputCategorical, InputCategoricalList, InputNumeric
from otelfeedback.store.base import TraceStore

if TYPE_CHECKING:
    from otelfeedback.labeling.schemas import LabelSchema
    from otelfeedback.labeling.sessions import LabelingSession

Units = Sequence[Sequence[Hashable]]


def _pairable(units: Units) -> list[Sequence[Hashable]]:
    return [u for u in units if len(u) >= 2]


def percent_agreement(units: Units) -> float | None:
    """The mean share of agreeing reviewer pairs per unit (0..1); None without any unit
    rated twice."""
    rated = _pairable(units)
    if not rated:
        return None
    total = 0.0
    for unit in rated:
        m = len(unit)
        same = sum(c * (c - 1) for c in Counter(unit).values())
        total += same / (m * (m - 1))
    return total / len(rated)


def krippendorff_alpha(units: Units, level: str = "nominal") -> float | None:
    """Krippendorff's alpha at the ``nominal`` or ``interval`` level of measurement.

    Args:
        units: per unit, the values given (hashable for nominal, numbers for interval).
        level: ``"nominal"`` or ``"interval"``.

    Returns:
        Alpha (1 perfect agreement, 0 chance, below 0 systematic disagreement), or None
        when undefined (fewer than two pairable values, or no variation at all).

    Raises:
        ValueError: an unknown level, or a non-numeric value at the interval level.
    """
    rated = _pairable(units)
    n = sum(len(u) for u in rated)
    if n < 2:
        return None
    if level == "nominal":
        observed = 0.0
        totals: Counter[Hashable] = Counter()
        for unit in rated:
            counts = Counter(unit)
            totals.update(counts)
            m = len(unit)
            observed += (m * m - sum(c * c for c in counts.values())) / (m - 1)
        expected = (n * n - sum(c * c for c in totals.values())) / (n - 1)
    elif level == "interval":
        observed = 0.0
        total = total_sq = 0.0
        for unit in rated:
            values = [_number(v) for v in unit]
            m = len(values)
            s, sq = math.fsum(values), math.fsum(v * v for v in values)
            total += s
            total_sq += sq
            observed += 2 * (m * sq - s * s) / (m - 1)
        expected = 2 * (n * total_sq - total * total) / (n - 1)
    else:
        raise ValueError(f"level: expected 'nominal' or 'interval', got {level!r}")
    if expected <= 0:
        return None
    return 1.0 - observed / expected


def fleiss_kappa(units: Units) -> float | None:
    """Fleiss' kappa over categorical values; None when undefined (no unit rated twice, or
    every rating in one category)."""
    rated = _pairable(units)
    if not rated:
        return None
    p_bar = percent_agreement(rated)
    assert p_bar is not None
    totals: Counter[Hashable] = Counter()
    for unit in rated:
        totals.update(unit)
    n = sum(totals.values())
    p_e = sum((c / n) ** 2 for c in totals.values())
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1.0 - p_e)


def _number(value: Hashable) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"interval alpha needs numbers, got {value!r}")
    return float(value)


# -- a session's report ---------------------------------------------------------------------
@dataclass(frozen=True)
class Disagreement:
    """An item where reviewers gave different answers to one schema."""

    trace_id: str
    position: int
    labels: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "position": self.position, "labels": self.labels}


@dataclass(frozen=True)
class SchemaAgreement:
    """Agreement on one schema.

    Attributes:
        level: ``nominal`` (categories), ``interval`` (numbers) or ``text`` (free text:
            percent agreement on the exact text only).
        items: items with answers from at least two reviewers (the ones that count).
        reviewers: reviewers who answered this schema.
        percent_agreement / krippendorff_alpha / fleiss_kappa: None when undefined or not
            meaningful at this level.
    """

    schema: str
    level: str
    items: int
    reviewers: int
    percent_agreement: float | None
    krippendorff_alpha: float | None
    fleiss_kappa: float | None
    disagreements: list[Disagreement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "level": self.level,
            "items": self.items,
            "reviewers": self.reviewers,
            "percent_agreement": self.percent_agreement,
            "krippendorff_alpha": self.krippendorff_alpha,
            "fleiss_kappa": self.fleiss_kappa,
            "disagreements": [d.to_dict() for d in self.disagreements],
        }


@dataclass(frozen=True)
class AgreementReport:
    """Agreement per schema of a session (``LabelingSession.agreement()``)."""

    labeling_session_id: str
    schemas: list[SchemaAgreement]

    def __getitem__(self, schema: str) -> SchemaAgreement:
        for entry in self.schemas:
            if entry.schema == schema:
                return entry
        raise KeyError(schema)

    def to_dict(self) -> dict[str, Any]:
        return {
            "labeling_session_id": self.labeling_session_id,
            "schemas": [s.to_dict() for s in self.schemas],
        }


def _level(schema: LabelSchema) -> str:
    if isinstance(schema.input, (InputCategorical, InputCategoricalList)):
        return "nominal"
    if isinstance(schema.input, InputNumeric):
        return "interval"
    return "text"


def _key(value: Any) -> Hashable:
    """A hashable form of an answer: lists as tuples, text with its spacing normalised."""
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, (int, float)):
        return value
    return json.dumps(value, sort_keys=True)


def schema_agreement(schema: LabelSchema, board: Board) -> SchemaAgreement:
    """Agreement on one schema over the board's done reviews."""
    level = _level(schema)
    units: list[list[Hashable]] = []
    disagreements: list[Disagreement] = []
    reviewers: set[str] = set()
    for rank, trace_id in enumerate(board.order):
        given = {
            name: review.labels[schema.name]
            for name, review in board.reviews.get(trace_id, {}).items()
            if review.state == DONE and schema.name in review.labels
        }
        reviewers.update(given)
        if len(given) < 2:
            continue
        unit = [_key(v) for v in given.values()]
        units.append(unit)
        if len(set(unit)) > 1:
            disagreements.append(Disagreement(trace_id, rank + 1, dict(sorted(given.items()))))
    alpha = kappa = None
    if level != "text":
        alpha = krippendorff_alpha(units, level)
    if level == "nominal":
        kappa = fleiss_kappa(units)
    return SchemaAgreement(
        schema=schema.name,
        level=level,
        items=len(units),
        reviewers=len(reviewers),
        percent_agreement=percent_agreement(units),
        krippendorff_alpha=alpha,
        fleiss_kappa=kappa,
        disagreements=disagreements,
    )


def report(
    store: TraceStore, session: LabelingSession, board: Board | None = None
) -> AgreementReport:
    """Agreement on each of the session's schemas."""
    board = board or Board(session.labeling_session_id).refresh(store)
    schemas = session.schemas(store)
    with board.lock:
        entries = [schema_agreement(schema, board) for schema in schemas]
    return AgreementReport(session.labeling_session_id, entries)
