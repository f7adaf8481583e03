"""What one record changes, as a bridge works it out from the records it has seen, and the
writes each backend plans for it."""

from __future__ import annotations

from typing import Any

from otelfeedback.assessments.wire import AssessmentRecord
from otelfeedback.bridges.log import AssessmentLog
from otelfeedback.bridges.mlflow import MLflowWriter
from otelfeedback.bridges.phoenix import PhoenixWriter

TRACE = "ab" * 16
SPAN = "cd" * 8


def created(aid: str, value: Any, span_id: str | None = None, **extra: Any) -> AssessmentRecord:
    fields = {
        "assessment_id": aid,
        "trace_id": TRACE,
        "span_id": span_id,
        "name": "thumbs",
        "kind": "feedback",
        "value": value,
        "source_type": "HUMAN",
        "source_id": "enduser_123",
        "create_time_ms": 1,
        "last_update_time_ms": 1,
        **extra,
    }
    return AssessmentRecord("create", fields)


def changed(operation: str, aid: str, **fields: Any) -> AssessmentRecord:
    return AssessmentRecord(operation, {"assessment_id": aid, "trace_id": TRACE, **fields})  # type: ignore[arg-type]


def test_an_update_carrying_only_what_changed_resolves_to_the_whole_assessment() -> None:
    log = AssessmentLog()
    first = log.apply(created("a-1", False, rationale="meh"))
    assert first.previous is None and first.current is not None
    change = log.apply(changed("update", "a-1", value=True))
    assert change.current is not None and change.previous is not None
    assert (change.current["value"], change.current["rationale"]) == (True, "meh")
    assert change.current["source"] == {"source_type": "HUMAN", "source_id": "enduser_123"}


def test_an_override_and_its_deletion() -> None:
    log = AssessmentLog()
    log.apply(created("a-1", False))
    override = log.apply(created("a-2", True, overrides="a-1"))
    assert override.overridden is not None
    assert override.overridden["assessment_id"] == "a-1" and override.overridden["valid"] is False
    deleted = log.apply(changed("delete", "a-2"))
    assert deleted.current is None and deleted.previous is not None
    assert deleted.restored is not None and deleted.restored["assessment_id"] == "a-1"
    assert deleted.restored["valid"] is True


def test_records_about_assessments_the_log_never_saw() -> None:
    log = AssessmentLog()
    update = log.apply(changed("update", "a-9", name="thumbs", kind="feedback", value=1))
    assert update.current is not None and update.current["value"] == 1
    override = log.apply(created("a-10", True, overrides="a-8"))
    assert override.overridden == {"assessment_id": "a-8", "trace_id": TRACE}
    # Phoenix does not know where the unseen one was: it removes it from both scopes.
    ops = PhoenixWriter("http://p", {}, "proj", 1.0).plan(override, {})
    assert [(op.action, op.payload.get("scope")) for op in ops] == [
        ("write", None),
        ("delete", "span"),
        ("delete", "trace"),
    ]


def test_the_log_is_bounded_by_traces() -> None:
    log = AssessmentLog(max_traces=1)
    log.apply(created("a-1", False))
    other = AssessmentRecord("create", {**created("a-2", 1).fields, "trace_id": "ef" * 16})
    log.apply(other)
    # The first trace was forgotten: an update of a-1 now stands on its own fields.
    change = log.apply(changed("update", "a-1", value=True))
    assert change.previous is None and change.current is None


def test_what_each_backend_writes_for_a_span_feedback() -> None:
    change = AssessmentLog().apply(created("a-1", 0.5, span_id=SPAN, metadata={"k": [1]}))
    [phoenix] = PhoenixWriter("http://p", {}, None, 1.0).plan(change, {})
    assert phoenix.batch_key == "span" and phoenix.payload["span_id"] == SPAN
    assert phoenix.payload["result"] == {"score": 0.5}
    assert phoenix.payload["metadata"]["k"] == [1]
    [mlflow] = MLflowWriter("http://m", {}, 1.0).plan(change, {})
    body = mlflow.payload
    assert (mlflow.action, body["trace_id"], body["span_id"]) == ("create", "tr-" + TRACE, SPAN)
    assert body["feedback"] == {"value": 0.5} and body["metadata"] == {"k": "[1]"}
    assert body["create_time"] == "1970-01-01T00:00:00.001Z"
