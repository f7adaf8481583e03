"""Recording a reviewer's labels on an item: checked against the session's schemas, written
as ordinary assessments, and the reviewer's state kept in a ``labeling_review`` record.

Each answer becomes an assessment on the item's trace (its root span) named after the
schema, of the schema's type, with source ``HUMAN`` / the reviewer and metadata naming the
session and schema; a comment is a feedback's rationale (an expectation's
``otelfeedback.labeling.comment`` metadata). Labeling again: a changed feedback overrides the
reviewer's earlier one (kept in its history, ``valid=False``), a changed expectation is
updated in place; every submission is a version of the review record, so the earlier
answers of both stay readable (``record_history``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from otelfeedback import semconv as sc
from otelfeedback.api import assessments as api
from otelfeedback.assessments.entities import AssessmentSource, Expectation, Feedback
from otelfeedback.assessments.validation import MAX_RATIONALE_LENGTH, check_trace_id
from otelfeedback.errors import InvalidArgumentError, NotFoundError
from otelfeedback.labeling._store import ITEM_KIND, REVIEW_KIND, item_id, review_id
from otelfeedback.labeling.board import DONE, SKIPPED, Review
from otelfeedback.labeling.schemas import LabelSchema
from otelfeedback.semconv import AssessmentSourceType
from otelfeedback.store.base import TraceStore

if TYPE_CHECKING:
    from otelfeedback.labeling.sessions import LabelingSession


def check_labels(
    schemas: list[LabelSchema], labels: Any, comments: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answered labels and the comments, checked against the schemas.

    Raises:
        InvalidArgumentError: naming ``labels.<schema>`` or ``comments.<schema>``.
    """
    by_name = {s.name: s for s in schemas}
    if not isinstance(labels, Mapping):
        raise InvalidArgumentError("labels", "expected a dict {schema name: answer}")
    answers: dict[str, Any] = {}
    for name, value in labels.items():
        schema = by_name.get(name)
        if schema is None:
            raise InvalidArgumentError(
                f"labels.{name}",
                f"not a question of this session; expected one of {', '.join(by_name)}",
            )
        checked = schema.check(value)
        if checked is not None:
            answers[name] = checked
    notes: dict[str, str] = {}
    for name, text in (comments or {}).items():
        schema = by_name.get(name)
        if schema is None or not schema.enable_comment:
            raise InvalidArgumentError(f"comments.{name}", "this question takes no comment")
        if not isinstance(text, str) or len(text) > MAX_RATIONALE_LENGTH:
            raise InvalidArgumentError(
                f"comments.{name}", f"expected a text of at most {MAX_RATIONALE_LENGTH:,}"
            )
        if text.strip():
            notes[name] = text.strip()
    return answers, notes


def _item(store: TraceStore, session: LabelingSession, value: Any) -> str:
    trace_id = check_trace_id(value)
    try:
        store.get_record(ITEM_KIND, item_id(session.labeling_session_id, trace_id))
    except NotFoundError:
        raise NotFoundError(
            f"trace {trace_id} is not in labeling session {session.name!r}"
        ) from None
    return trace_id


def _previous(store: TraceStore, session_id: str, trace_id: str, reviewer: str) -> Review | None:
    try:
        return Review.from_record(
            store.get_record(REVIEW_KIND, review_id(session_id, trace_id, reviewer))
        )
    except NotFoundError:
        return None


def _mine(
    store: TraceStore, session_id: str, trace_id: str, reviewer: str
) -> dict[str, Feedback | Expectation]:
    """The reviewer's current labels in this session on the trace, by name."""
    return {
        a.name: a
        for a in store.get_trace(trace_id).assessments
        if a.valid
        and str(a.source.source_type) == AssessmentSourceType.HUMAN.value
        and a.source.source_id == reviewer
        and (a.metadata or {}).get(sc.LABELING_SESSION_ID) == session_id
    }


def _write(
    schema: LabelSchema,
    session: LabelingSession,
    trace_id: str,
    reviewer: str,
    value: Any,
    comment: str | None,
    current: Feedback | Expectation | None,
) -> None:
    metadata = {
        sc.LABELING_SESSION_ID: session.labeling_session_id,
        sc.LABELING_SESSION_NAME: session.name,
        sc.LABELING_SCHEMA: schema.name,
        sc.RUN_ID: session.labeling_session_id,
    }
    source = AssessmentSource(AssessmentSourceType.HUMAN, reviewer)
    if schema.type == "feedback":
        if current is None or current.kind != "feedback":
            api.log_feedback(trace_id, schema.name, value, comment, source, metadata=metadata)
        elif current.value != value or current.rationale != comment:
            api.override_feedback(
                trace_id, str(current.assessment_id), value, comment, source, metadata
            )
        return
    if comment is not None:
        metadata[sc.LABELING_COMMENT] = comment
    if current is None or current.kind != "expectation":
        api.log_expectation(trace_id, schema.name, value, source, metadata=metadata)
    elif current.value != value or (current.metadata or {}).get(sc.LABELING_COMMENT) != comment:
        api.update_assessment(trace_id, str(current.assessment_id), value=value, metadata=metadata)


def submit(
    store: TraceStore,
    session: LabelingSession,
    trace_id: Any,
    reviewer: Any,
    labels: Any,
    comments: Any = None,
    schemas: list[LabelSchema] | None = None,
) -> Review:
    """Check and record ``reviewer``'s labels on one item (see the module docstring).

    Raises:
        InvalidArgumentError: a label or comment that does not fit, no answer at all, or a
            reviewer who is not assigned.
        NotFoundError: the trace is not in the session.
    """
    from otelfeedback.labeling.sessions import check_reviewer

    reviewer = check_reviewer(session, reviewer)
    schemas = schemas if schemas is not None else session.schemas(store)
    answers, notes = check_labels(schemas, labels, comments)
    trace_id = _item(store, session, trace_id)
    sid = session.labeling_session_id
    previous = _previous(store, sid, trace_id, reviewer)
    kept = dict(previous.labels) if previous and previous.state == DONE else {}
    if not answers and not kept:
        raise InvalidArgumentError("labels", "answer at least one question, or skip the item")
    mine = _mine(store, sid, trace_id, reviewer)
    for schema in schemas:
        if schema.name in answers:
            _write(
                schema,
                session,
                trace_id,
                reviewer,
                answers[schema.name],
                notes.get(schema.name),
                mine.get(schema.name),
            )
    data = {
        "trace_id": trace_id,
        "reviewer": reviewer,
        "state": DONE,
        "labels": {**kept, **answers},
        "comments": {**(previous.comments if previous else {}), **notes},
    }
    record = store.append_record(
        REVIEW_KIND, review_id(sid, trace_id, reviewer), data, parent=sid, author=reviewer
    )
    return Review.from_record(record)


def skip(store: TraceStore, session: LabelingSession, trace_id: Any, reviewer: Any) -> Review:
    """Mark the item skipped by ``reviewer`` (no change if they already labeled it)."""
    from otelfeedback.labeling.sessions import check_reviewer

    reviewer = check_reviewer(session, reviewer)
    trace_id = _item(store, session, trace_id)
    sid = session.labeling_session_id
    previous = _previous(store, sid, trace_id, reviewer)
    if previous is not None:
        return previous
    data = {
        "trace_id": trace_id,
        "reviewer": reviewer,
        "state": SKIPPED,
        "labels": {},
        "comments": {},
    }
    record = store.append_record(
        REVIEW_KIND, review_id(sid, trace_id, reviewer), data, parent=sid, author=reviewer
    )
    return Review.from_record(record)
