"""What one assessment record changes, worked out from the records a bridge has seen.

A bridge sees records one at a time (create, update, override, delete). To write them into a
backend it needs more than the record: an update carries only what changed, an override makes
another assessment invalid, and deleting an override makes the one it replaced valid again.
``AssessmentLog`` keeps the records of recent traces (bounded) and resolves them with the one
resolver every reader uses (``assessments.resolve``), in the order the bridge saw them.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from otelfeedback.assessments.resolve import resolve_records
from otelfeedback.assessments.wire import AssessmentRecord

#: An assessment in its ``to_dict()`` form (``source`` nested, ``valid`` set).
Assessment = dict[str, Any]


@dataclass(frozen=True)
class Change:
    """The effect of one record.

    Attributes:
        record: the record itself.
        current: the assessment after the record (None once deleted).
        previous: the assessment before the record (None when it is new or unknown).
        overridden: for an override, the assessment it replaces (now invalid).
        restored: for the deletion of an override, the assessment valid again.
    """

    record: AssessmentRecord
    current: Assessment | None
    previous: Assessment | None
    overridden: Assessment | None = None
    restored: Assessment | None = None


def flat_fields(assessment: Assessment) -> dict[str, Any]:
    """An assessment in record-field form (``source_type`` / ``source_id`` at the top)."""
    fields = {k: v for k, v in assessment.items() if k not in ("source", "valid")}
    source = assessment.get("source") or {}
    fields["source_type"] = source.get("source_type")
    fields["source_id"] = source.get("source_id")
    return fields


class AssessmentLog:
    """The records of the ``max_traces`` most recently touched traces, in arrival order."""

    def __init__(self, max_traces: int = 2048) -> None:
        self.max_traces = max(1, max_traces)
        self._traces: OrderedDict[str, list[AssessmentRecord]] = OrderedDict()
        self._sequence = 0

    def apply(self, record: AssessmentRecord) -> Change:
        """Add ``record`` to its trace's log and say what it changed."""
        trace_id = record.trace_id
        records = self._traces.pop(trace_id, [])
        self._traces[trace_id] = records
        while len(self._traces) > self.max_traces:
            self._traces.popitem(last=False)
        before = _by_id(records)
        self._sequence += 1  # arrival order, whatever the timestamps say
        records.append(dataclasses.replace(record, time_ns=self._sequence))
        after = _by_id(records)
        aid = record.assessment_id
        current, previous = after.get(aid), before.get(aid)
        if current is None and record.operation == "update" and "name" in record.fields:
            # An update of an assessment created before this log began: take it whole.
            current = _alone(record)
        overridden = restored = None
        if record.operation == "create" and current is not None and current.get("overrides"):
            overridden = after.get(current["overrides"]) or _stub(record, current["overrides"])
        if record.operation == "delete" and previous is not None and previous.get("overrides"):
            candidate = after.get(previous["overrides"])
            restored = candidate if candidate is not None and candidate["valid"] else None
        return Change(record, current, previous, overridden, restored)


def _by_id(records: list[AssessmentRecord]) -> dict[str, Assessment]:
    return {a["assessment_id"]: a for a in resolve_records(records)}


def _alone(record: AssessmentRecord) -> Assessment:
    return resolve_records([AssessmentRecord("create", dict(record.fields))])[0]


def _stub(record: AssessmentRecord, assessment_id: str) -> Assessment:
    """What we know of an assessment the log never saw: its id and trace (not whether it
    was on a span: no ``span_id`` key)."""
    return {"assessment_id": assessment_id, "trace_id": record.trace_id}
