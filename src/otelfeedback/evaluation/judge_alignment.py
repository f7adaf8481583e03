"""How well a judge agrees with people: judge-vs-human alignment over the traces that have
both a judge's result and a human label.

For each such trace the judge's value is its latest valid result (not ``HUMAN``) of the
**pinned version** — one judge model and prompt hash, by default those of the newest
result, so results of an edited prompt or another model never mix; the others are counted
as ``other_version``. The human value is the majority of the valid ``HUMAN`` labels of
that name (ties: the latest), turned into the judge's terms by ``mapping``
(``{"Accurate": "yes", "Inaccurate": "no"}``; booleans read as yes/no). Reported: n, percent
agreement, Cohen's kappa, a confusion matrix (rows: human, columns: judge), precision and
recall per label, TPR/TNR for the ``positive`` label when there are two labels, and every
disagreement with both rationales.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.assessments import validation as v
from otelfeedback.assessments.entities import Feedback
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.semconv import AssessmentSourceType
from otelfeedback.store.base import TraceStore
from otelfeedback.store.entities import Trace


def label(value: Any) -> str:
    """A value as a label: booleans and yes/no in any case as ``yes``/``no``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip()
    if text.lower() in ("yes", "no", "true", "false"):
        return "yes" if text.lower() in ("yes", "true") else "no"
    return text


def parse_mapping(pairs: list[str], text: str | None) -> dict[str, str] | None:
    """``map=Accurate=yes`` query values and/or ``Accurate = yes`` lines; None when empty.

    Raises:
        InvalidArgumentError: a line without ``=``.
    """
    lines = [*pairs, *(text or "").splitlines()]
    mapping: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            continue
        if "=" not in line:
            raise InvalidArgumentError(
                "mapping", f"expected 'human value = judge value', got {line!r}"
            )
        key, _, value = line.rpartition("=")
        mapping[key.strip()] = value.strip()
    return mapping or None


def _map(value: Any, mapping: Mapping[Any, Any] | None) -> str | None:
    if mapping is None:
        return label(value)
    for key in (value, label(value)):
        try:
            if key in mapping:
                return label(mapping[key])
        except TypeError:  # an unhashable value (a list)
            pass
    lowered = {str(k).strip().lower(): m for k, m in mapping.items()}
    found = lowered.get(str(value).strip().lower())
    return None if found is None else label(found)


@dataclass
class AlignmentReport:
    """``alignment``'s answer; ``to_dict()`` is its JSON."""

    judge: str
    human: str
    judge_model: str | None
    prompt_hash: str | None
    n: int
    agreement: float | None
    kappa: float | None
    labels: list[str]
    confusion: dict[str, dict[str, int]]
    per_label: dict[str, dict[str, Any]]
    positive: str
    tpr: float | None = None
    tnr: float | None = None
    precision: float | None = None
    recall: float | None = None
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    unmapped_values: dict[str, int] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _judge_results(trace: Trace, judge: str, run_id: str | None) -> list[Feedback]:
    return [
        a
        for a in trace.search_assessments(judge, kind="feedback")
        if isinstance(a, Feedback)
        and str(a.source.source_type) != AssessmentSourceType.HUMAN.value
        and (run_id is None or (a.metadata or {}).get(sc.RUN_ID) == run_id)
    ]


def _version(feedback: Feedback) -> tuple[str | None, str | None]:
    meta = feedback.metadata or {}
    return meta.get(sc.JUDGE_MODEL), meta.get(sc.PROMPT_HASH)


def _human(trace: Trace, human: str) -> list[Feedback]:
    return [
        a
        for a in trace.search_assessments(human, kind="feedback")
        if isinstance(a, Feedback)
        and str(a.source.source_type) == AssessmentSourceType.HUMAN.value
        and a.error is None
    ]


def _filter(judge: str, human: str) -> str | None:
    if "`" in judge or "`" in human:
        return None
    return f"feedback.`{judge}` IS NOT NULL AND feedback.`{human}` IS NOT NULL"


def compute_alignment(
    store: TraceStore,
    judge: str,
    human: str,
    mapping: Mapping[Any, Any] | None = None,
    *,
    judge_model: str | None = None,
    prompt_hash: str | None = None,
    run_id: str | None = None,
    positive: str = "yes",
) -> AlignmentReport:
    """``alignment`` over ``store`` (see the module docstring)."""
    judge, human = v.check_name(judge, "judge"), v.check_name(human, "human")
    if mapping is not None and not isinstance(mapping, Mapping):
        raise InvalidArgumentError("mapping", f"expected a dict, got {type(mapping).__name__}")
    traces = store.search_traces(_filter(judge, human), None, include_spans=False)
    pairs: list[tuple[Trace, list[Feedback], list[Feedback]]] = []
    versions: Counter[tuple[str | None, str | None]] = Counter()
    newest: tuple[int, tuple[str | None, str | None]] | None = None
    for trace in traces:
        found, people = _judge_results(trace, judge, run_id), _human(trace, human)
        if not found or not people:
            continue
        pairs.append((trace, found, people))
        for result in found:
            versions[_version(result)] += 1
            stamp = result.create_time_ms or 0
            if newest is None or stamp >= newest[0]:
                newest = (stamp, _version(result))
    pinned = newest[1] if newest else (None, None)
    pinned = (judge_model or pinned[0], prompt_hash or pinned[1])
    skipped: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    judged: list[tuple[Trace, Feedback, Feedback, str, str]] = []
    for trace, found, people in pairs:
        mine = [r for r in found if _version(r) == pinned]
        if not mine:
            skipped["other_version"] += 1
            continue
        result = max(mine, key=lambda r: r.create_time_ms or 0)
        if result.error is not None:
            skipped["judge_error"] += 1
            continue
        votes = Counter(_map(p.value, mapping) for p in people)
        latest = max(people, key=lambda p: p.create_time_ms or 0)
        top = max(votes.values())
        choice = _map(latest.value, mapping)
        if votes[choice] != top:
            choice = next(value for value, count in votes.items() if count == top)
        if choice is None:
            skipped["unmapped_human_value"] += 1
            unmapped[label(latest.value)] += 1
            continue
        judged.append((trace, result, latest, label(result.value), choice))
    return _report(judge, human, pinned, positive, judged, skipped, unmapped, versions)


def _report(
    judge: str,
    human: str,
    pinned: tuple[str | None, str | None],
    positive: str,
    judged: list[tuple[Trace, Feedback, Feedback, str, str]],
    skipped: Counter[str],
    unmapped: Counter[str],
    versions: Counter[tuple[str | None, str | None]],
) -> AlignmentReport:
    n = len(judged)
    by_judge = Counter(j for *_, j, _h in judged)
    by_human = Counter(h for *_, h in judged)
    labels = sorted(set(by_judge) | set(by_human), key=lambda x: (x != positive, x))
    confusion = {h: dict.fromkeys(labels, 0) for h in labels}
    for *_, j, h in judged:
        confusion[h][j] += 1
    agree = sum(confusion[x][x] for x in labels)
    expected = sum(by_judge[x] * by_human[x] for x in labels) / (n * n) if n else None
    observed = _ratio(agree, n)
    kappa = None
    if observed is not None and expected is not None and expected < 1:
        kappa = (observed - expected) / (1 - expected)
    per_label = {
        x: {
            "precision": _ratio(confusion[x][x], by_judge[x]),
            "recall": _ratio(confusion[x][x], by_human[x]),
            "support": by_human[x],
        }
        for x in labels
    }
    report = AlignmentReport(
        judge=judge,
        human=human,
        judge_model=pinned[0],
        prompt_hash=pinned[1],
        n=n,
        agreement=observed,
        kappa=kappa,
        labels=labels,
        confusion=confusion,
        per_label=per_label,
        positive=positive,
        skipped=dict(skipped),
        unmapped_values=dict(unmapped),
        versions=[
            {"judge_model": m, "prompt_hash": p, "results": c}
            for (m, p), c in versions.most_common()
        ],
    )
    if positive in per_label:
        report.precision = per_label[positive]["precision"]
        report.recall = report.tpr = per_label[positive]["recall"]
        others = [x for x in labels if x != positive]
        if len(others) == 1:
            report.tnr = per_label[others[0]]["recall"]
    for trace, result, person, j, h in judged:
        if j != h:
            report.disagreements.append(
                {
                    "trace_id": trace.trace_id,
                    "request_preview": trace.info.request_preview,
                    "judge_value": result.value,
                    "judge_rationale": result.rationale,
                    "human_value": person.value,
                    "human_label": h,
                    "human_rationale": person.rationale,
                    "human_source_id": person.source.source_id,
                }
            )
    return report
