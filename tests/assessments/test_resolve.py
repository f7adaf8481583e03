"""Rebuilding the latest state from the append-only log."""

from __future__ import annotations

from typing import Any

from otelfeedback.assessments.resolve import resolve_records
from otelfeedback.assessments.wire import AssessmentRecord

T = "1" * 32


def create(aid: str, value: Any, at: int, overrides: str | None = None) -> AssessmentRecord:
    fields = {
        "assessment_id": aid,
        "trace_id": T,
        "name": "q",
        "kind": "feedback",
        "value": value,
        "create_time_ms": at,
        "source_type": "HUMAN",
        "source_id": "u",
    }
    if overrides:
        fields["overrides"] = overrides
    return AssessmentRecord("create", fields, at)


def update(aid: str, at: int, **changes: Any) -> AssessmentRecord:
    return AssessmentRecord("update", {"assessment_id": aid, "trace_id": T, **changes}, at)


def delete(aid: str, at: int) -> AssessmentRecord:
    return AssessmentRecord("delete", {"assessment_id": aid, "trace_id": T}, at)


def state(records: list[AssessmentRecord]) -> dict[str, tuple[Any, bool]]:
    return {a["assessment_id"]: (a["value"], a["valid"]) for a in resolve_records(records)}


def test_records_apply_in_time_order_not_log_order() -> None:
    records = [update("a", 3, value=3), create("a", 1, 1), update("a", 2, value=2)]
    assert state(records) == {"a": (3, True)}


def test_update_keeps_immutable_fields() -> None:
    (only,) = resolve_records(
        [create("a", 1, 1), update("a", 2, source_type="CODE", create_time_ms=99, value=5)]
    )
    assert only["source"]["source_type"] == "HUMAN"
    assert only["create_time_ms"] == 1
    assert only["value"] == 5


def test_override_chain_and_deleting_the_head_restores_the_previous() -> None:
    log = [create("a", 1, 1), create("b", 2, 2, overrides="a"), create("c", 3, 3, overrides="b")]
    assert state(log) == {"a": (1, False), "b": (2, False), "c": (3, True)}
    assert state([*log, delete("c", 4)]) == {"a": (1, False), "b": (2, True)}


def test_delete_of_unknown_id_and_update_after_delete_are_no_ops() -> None:
    log = [create("a", 1, 1), delete("zzz", 2), delete("a", 3), update("a", 4, value=9)]
    assert state(log) == {}
