"""Rebuild the latest state of a trace's assessments from their append-only log.

Rules (the same wherever the log is read):

- records apply in time order (ties keep log order);
- ``create`` sets the whole assessment; ``update`` replaces the fields it carries (immutable
  fields ``kind``, ``trace_id``, ``span_id``, ``source_*``, ``create_time_ms`` and
  ``overrides`` are kept); ``delete`` removes it (a missing id is a no-op);
- an assessment overridden by a live (not deleted) one is ``valid=False`` and stays listed;
  deleting the override makes the previous one valid again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from otelfeedback.assessments.entities import Expectation, Feedback, assessment_from_dict
from otelfeedback.assessments.schema import IMMUTABLE, to_dict_form
from otelfeedback.assessments.wire import AssessmentRecord


def resolve_records(records: Iterable[AssessmentRecord]) -> list[dict[str, Any]]:
    """The live assessments (``to_dict()`` form, including overridden ones), oldest first."""
    ordered = sorted(enumerate(records), key=lambda pair: (pair[1].time_ns, pair[0]))
    state: dict[str, dict[str, Any]] = {}
    for _, record in ordered:
        aid = record.assessment_id
        if record.operation == "delete":
            state.pop(aid, None)
        elif record.operation == "create":
            state[aid] = dict(record.fields)
        else:
            current = state.get(aid)
            if current is None:
                continue  # an update of something never created (or deleted): nothing to show
            for key, value in record.fields.items():
                if key not in IMMUTABLE:
                    current[key] = value
    overridden = {a["overrides"] for a in state.values() if a.get("overrides")}
    result = []
    for aid, fields in state.items():
        result.append(to_dict_form(fields, valid=aid not in overridden))
    result.sort(key=lambda a: (a["create_time_ms"] or 0, a["assessment_id"]))
    return result


def resolve_assessments(records: Iterable[AssessmentRecord]) -> list[Feedback | Expectation]:
    """Like ``resolve_records`` but as ``Feedback`` / ``Expectation`` entities."""
    return [assessment_from_dict(d) for d in resolve_records(records)]
