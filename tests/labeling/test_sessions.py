"""Labeling sessions through the SDK on a file store: items, labels as assessments,
relabeling with history, progress, agreement, and the session's traces back for step 6."""

from __future__ import annotations

from typing import Any

import pytest

import otelfeedback
from otelfeedback import semconv as sc
from otelfeedback.errors import FilterSyntaxError, InvalidArgumentError, NotFoundError
from otelfeedback.labeling import (
    InputNumeric,
    create_label_schema,
    create_labeling_session,
    delete_labeling_session,
    get_labeling_session,
    list_labeling_sessions,
)
from otelfeedback.labeling._store import REVIEW_KIND, current_store, review_id
from tests.labeling.conftest import more_traces
from tests.server.conftest import Seeded


def session(name: str = "review", **kwargs: Any) -> Any:
    kwargs.setdefault("label_schemas", ["response_accuracy", "expected_response"])
    return create_labeling_session(name, **kwargs)


def test_add_traces_takes_traces_frames_and_ids_and_is_idempotent(seeded: Seeded) -> None:
    s = session()
    extra = more_traces(3)
    s.add_traces(otelfeedback.search_traces(f"trace.trace_id = '{extra[2]}'"))  # a list
    s.add_traces(
        otelfeedback.search_traces(
            filter_string=f"trace.trace_id = '{extra[0]}'", return_type="pandas"
        )
    )
    s.add_traces([extra[1], extra[2], extra[1]])
    s.add_traces(seeded.trace_id)
    s.add_traces(otelfeedback.get_trace(extra[0]))
    assert [i.trace_id for i in s.items()] == [extra[2], extra[0], extra[1], seeded.trace_id]
    assert [i.position for i in s.items()] == [1, 2, 3, 4]
    s.remove_traces([extra[0]])
    assert [i.trace_id for i in s.items()] == [extra[2], extra[1], seeded.trace_id]
    s.add_traces(extra[0])  # back, at the end
    assert s.items()[-1].trace_id == extra[0]


def test_unknown_or_malformed_traces_add_nothing(seeded: Seeded) -> None:
    s = session()
    missing = "f" * 32
    with pytest.raises(NotFoundError, match=missing):
        s.add_traces([seeded.trace_id, missing])
    for bad, argument in [
        ([seeded.trace_id, "nope"], "traces[1]"),
        ([None], "traces[0]"),
        (None, "traces"),
        (42, "traces"),
    ]:
        with pytest.raises(InvalidArgumentError) as info:
            s.add_traces(bad)
        assert info.value.argument == argument
    assert s.items() == []


def test_session_names_are_unique_and_sessions_are_found_by_name_or_id(seeded: Seeded) -> None:
    s = session(
        "quickstart_review",
        assigned_users=["alice", " bob "],
        instructions="Be strict.",
        reviewers_per_item=2,
    )
    assert s.assigned_users == ["alice", "bob"]
    assert get_labeling_session("quickstart_review") == s
    assert get_labeling_session(s.labeling_session_id) == s
    assert list_labeling_sessions() == [s]
    with pytest.raises(InvalidArgumentError) as info:
        session("quickstart_review")
    assert info.value.argument == "name"
    delete_labeling_session("quickstart_review")
    with pytest.raises(NotFoundError):
        get_labeling_session("quickstart_review")
    assert session("quickstart_review").labeling_session_id != s.labeling_session_id


@pytest.mark.parametrize(
    ("changes", "argument"),
    [
        ({"label_schemas": []}, "label_schemas"),
        ({"label_schemas": "response_accuracy"}, "label_schemas"),
        ({"label_schemas": ["nope"]}, "label_schemas[0]"),
        ({"label_schemas": ["response_accuracy", "response_accuracy"]}, "label_schemas[1]"),
        ({"assigned_users": "alice"}, "assigned_users"),
        ({"assigned_users": ["a", ""]}, "assigned_users[1]"),
        ({"reviewers_per_item": 0}, "reviewers_per_item"),
        ({"reviewers_per_item": True}, "reviewers_per_item"),
        ({"instructions": 5}, "instructions"),
    ],
)
def test_bad_session_arguments_name_the_argument(
    seeded: Seeded, changes: dict[str, Any], argument: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        session(**changes)
    assert info.value.argument == argument
    assert list_labeling_sessions() == []


def test_labels_are_ordinary_assessments_everywhere(seeded: Seeded) -> None:
    s = session()
    s.add_traces(seeded.trace_id)
    s.submit_labels(
        seeded.trace_id,
        "expert@example.com",
        {"response_accuracy": "Partially Accurate", "expected_response": "MLflow has Projects."},
    )
    trace = otelfeedback.get_trace(seeded.trace_id)
    labels = {a.name: a for a in trace.assessments if a.source.source_id == "expert@example.com"}
    accuracy, expected = labels["response_accuracy"], labels["expected_response"]
    assert (accuracy.kind, accuracy.value) == ("feedback", "Partially Accurate")
    assert (expected.kind, expected.value) == ("expectation", "MLflow has Projects.")
    assert str(accuracy.source.source_type) == "HUMAN"
    assert accuracy.span_id in (None, seeded.root_span_id)
    assert accuracy.metadata[sc.LABELING_SESSION_ID] == s.labeling_session_id
    assert accuracy.metadata[sc.LABELING_SESSION_NAME] == "review"
    assert accuracy.metadata[sc.LABELING_SCHEMA] == "response_accuracy"
    # the search language sees them like any assessment
    found = otelfeedback.search_traces("expectation.expected_response LIKE '%Projects%'")
    assert [t.info.trace_id for t in found] == [seeded.trace_id]
    # the end user's feedback is untouched
    assert any(a.name == "user_feedback" and a.valid for a in trace.assessments)


def test_relabeling_updates_the_label_and_keeps_history(seeded: Seeded) -> None:
    s = session()
    s.add_traces(seeded.trace_id)
    first = s.submit_labels(
        seeded.trace_id, "expert", {"response_accuracy": "Accurate", "expected_response": "v1"}
    )
    s.submit_labels(seeded.trace_id, "expert", {"response_accuracy": "Inaccurate"})
    second = s.submit_labels(seeded.trace_id, "expert", {"expected_response": "v2"})
    trace = otelfeedback.get_trace(seeded.trace_id)
    mine = [a for a in trace.assessments if a.source.source_id == "expert"]
    current = {a.name: a.value for a in mine if a.valid}
    assert current == {"response_accuracy": "Inaccurate", "expected_response": "v2"}
    overridden = [a for a in mine if not a.valid]
    assert [(a.name, a.value) for a in overridden] == [("response_accuracy", "Accurate")]
    new = next(a for a in mine if a.valid and a.name == "response_accuracy")
    assert new.overrides == overridden[0].assessment_id
    assert (first.version, second.version) == (1, 3)
    assert second.labels == {"response_accuracy": "Inaccurate", "expected_response": "v2"}
    history = current_store().record_history(
        REVIEW_KIND, review_id(s.labeling_session_id, seeded.trace_id, "expert")
    )
    assert [h.data["labels"]["expected_response"] for h in history] == ["v1", "v1", "v2"]
    # the same answers again write nothing new
    s.submit_labels(seeded.trace_id, "expert", {"response_accuracy": "Inaccurate"})
    again = otelfeedback.get_trace(seeded.trace_id)
    assert len(again.assessments) == len(trace.assessments)


@pytest.mark.parametrize(
    ("labels", "argument"),
    [
        ({"response_accuracy": "Great"}, "labels.response_accuracy"),
        ({"response_accuracy": 1}, "labels.response_accuracy"),
        ({"expected_response": ["a"]}, "labels.expected_response"),
        ({"tone": "fine"}, "labels.tone"),
        ({}, "labels"),
        ({"expected_response": "   "}, "labels"),
        ("Accurate", "labels"),
    ],
)
def test_out_of_schema_labels_are_refused_and_write_nothing(
    seeded: Seeded, labels: Any, argument: str
) -> None:
    s = session()
    s.add_traces(seeded.trace_id)
    before = len(otelfeedback.get_trace(seeded.trace_id).assessments)
    with pytest.raises(InvalidArgumentError) as info:
        s.submit_labels(seeded.trace_id, "expert", labels)
    assert info.value.argument == argument
    assert len(otelfeedback.get_trace(seeded.trace_id).assessments) == before
    assert s.items()[0].reviews == {}


def test_numeric_bounds_comments_reviewers_and_items_are_checked(seeded: Seeded) -> None:
    create_label_schema("score", title="Score", input=InputNumeric(1, 5), enable_comment=True)
    s = create_labeling_session("scored", label_schemas=["score"], assigned_users=["alice"])
    s.add_traces(seeded.trace_id)
    with pytest.raises(InvalidArgumentError, match="at most 5"):
        s.submit_labels(seeded.trace_id, "alice", {"score": 6})
    with pytest.raises(InvalidArgumentError) as info:
        s.submit_labels(seeded.trace_id, "mallory", {"score": 3})
    assert info.value.argument == "reviewer"
    with pytest.raises(NotFoundError, match="not in labeling session"):
        s.submit_labels(seeded.script_trace_id, "alice", {"score": 3})
    with pytest.raises(InvalidArgumentError, match=r"comments\.nope"):
        s.submit_labels(seeded.trace_id, "alice", {"score": 3}, comments={"nope": "x"})
    s.submit_labels(seeded.trace_id, "alice", {"score": 4}, comments={"score": "Solid."})
    label = next(
        a for a in otelfeedback.get_trace(seeded.trace_id).assessments if a.name == "score"
    )
    assert (label.value, label.rationale) == (4, "Solid.")


def test_progress_and_items_follow_reviewers_per_item(seeded: Seeded) -> None:
    s = session(reviewers_per_item=2)
    ids = more_traces(3)
    s.add_traces(ids)
    s.submit_labels(ids[0], "alice", {"response_accuracy": "Accurate"})
    s.submit_labels(ids[0], "bob", {"response_accuracy": "Inaccurate"})
    s.submit_labels(ids[1], "alice", {"response_accuracy": "Accurate"})
    from otelfeedback.labeling import reviews

    reviews.skip(current_store(), s, ids[2], "bob")
    states = {i.trace_id: i.state for i in s.items()}
    assert states == {ids[0]: "done", ids[1]: "in_progress", ids[2]: "pending"}
    progress = s.progress()
    assert (progress.total, progress.done, progress.in_progress, progress.pending) == (3, 1, 1, 1)
    assert progress.reviewers["alice"].done == 2
    assert (progress.reviewers["bob"].done, progress.reviewers["bob"].skipped) == (1, 1)
    report = s.agreement()
    accuracy = report["response_accuracy"]
    assert (accuracy.items, accuracy.reviewers, accuracy.percent_agreement) == (1, 2, 0.0)
    assert [d.labels for d in accuracy.disagreements] == [
        {"alice": "Accurate", "bob": "Inaccurate"}
    ]
    assert report["expected_response"].level == "text"


def test_the_sessions_traces_come_back_for_step_6(seeded: Seeded) -> None:
    s = session("quickstart_review")
    other = session("other")
    ids = more_traces(2)
    s.add_traces([seeded.trace_id, ids[0]])
    other.add_traces(ids[1])
    expected = {seeded.trace_id, ids[0]}
    for found in [
        otelfeedback.search_traces(labeling_session=s),
        otelfeedback.search_traces(labeling_session="quickstart_review"),
        otelfeedback.search_traces(labeling_session=s.labeling_session_id),
        otelfeedback.search_traces("labeling_session.name = 'quickstart_review'"),
        otelfeedback.search_traces(f"labeling_session.id = '{s.labeling_session_id}'"),
    ]:
        assert {t.info.trace_id for t in found} == expected
    both = otelfeedback.search_traces("labeling_session.name IN ('quickstart_review', 'other')")
    assert len(both) == 3
    narrowed = otelfeedback.search_traces("feedback.user_feedback = false", labeling_session=s)
    assert [t.info.trace_id for t in narrowed] == [seeded.trace_id]
    frame = otelfeedback.search_traces(labeling_session=s, return_type="pandas")
    assert set(frame["trace_id"]) == expected
    s.remove_traces(ids[0])
    assert [t.info.trace_id for t in otelfeedback.search_traces(labeling_session=s)] == [
        seeded.trace_id
    ]
    delete_labeling_session(s)
    assert list(otelfeedback.search_traces(labeling_session=s)) == []


def test_session_filters_and_arguments_fail_clearly(seeded: Seeded) -> None:
    with pytest.raises(FilterSyntaxError, match=r"labeling_session\.owner"):
        otelfeedback.search_traces("labeling_session.owner = 'x'")
    with pytest.raises(FilterSyntaxError, match="quoted string"):
        otelfeedback.search_traces("labeling_session.name = 3")
    with pytest.raises(FilterSyntaxError) as info:
        otelfeedback.search_traces("status = ", labeling_session="x")
    assert info.value.filter_string == "status = "  # points into the caller's filter
    with pytest.raises(InvalidArgumentError) as bad:
        otelfeedback.search_traces(labeling_session=3)
    assert bad.value.argument == "labeling_session"
    assert list(otelfeedback.search_traces(labeling_session="no such session")) == []
    assert list(otelfeedback.search_traces(labeling_session="it's \\ odd")) == []
