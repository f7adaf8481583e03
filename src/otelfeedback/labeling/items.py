"""Adding traces to a session and taking them out (``labeling_item`` records).

Adding is idempotent: a trace already in the session keeps its place. New items get the
next positions, in the order given. Every trace must exist in the store
(``TraceStore.existing_trace_ids``) before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from otelfeedback.assessments.validation import check_trace_id
from otelfeedback.errors import ConflictError, InvalidArgumentError, NotFoundError
from otelfeedback.labeling._store import ITEM_KIND, SESSION_KIND, item_id
from otelfeedback.store.base import TraceStore
from otelfeedback.store.records import RecordWrite

if TYPE_CHECKING:
    from otelfeedback.labeling.sessions import LabelingSession

#: Items per appended batch (one line of the records store).
WRITE_BATCH = 5000


def _id_of(value: Any) -> Any:
    info = getattr(value, "info", None)
    if info is not None and isinstance(getattr(info, "trace_id", None), str):
        return info.trace_id  # a Trace
    if isinstance(getattr(value, "trace_id", None), str):
        return value.trace_id  # a TraceInfo
    return value


def trace_ids(traces: Any) -> list[str]:
    """The trace ids in ``traces`` (a list of ``Trace``, a ``search_traces`` DataFrame, ids,
    or one of these), validated, duplicates dropped, in order.

    Raises:
        InvalidArgumentError: naming the first entry that is not a trace or trace id.
    """
    if traces is None:
        raise InvalidArgumentError("traces", "expected traces or trace ids, got None")
    columns = getattr(traces, "columns", None)
    if columns is not None:  # a DataFrame
        if "trace_id" not in columns:
            raise InvalidArgumentError(
                "traces", "a DataFrame needs a trace_id column (as search_traces returns)"
            )
        values: list[Any] = list(traces["trace_id"])
    elif isinstance(traces, (str, bytes)) or _id_of(traces) is not traces:
        values = [traces]
    elif isinstance(traces, Iterable):
        values = list(traces)
    else:
        raise InvalidArgumentError("traces", f"expected traces or trace ids, got {traces!r:.80}")
    result: dict[str, None] = {}
    for i, value in enumerate(values):
        raw = _id_of(value)
        if not isinstance(raw, str):
            raise InvalidArgumentError(
                f"traces[{i}]", f"expected a Trace or a trace id, got {value!r:.80}"
            )
        result[check_trace_id(raw, f"traces[{i}]")] = None
    return list(result)


def _check_exist(store: TraceStore, ids: list[str]) -> None:
    found = store.existing_trace_ids(ids)
    missing = [trace_id for trace_id in ids if trace_id not in found]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise NotFoundError(
            f"trace(s) {', '.join(missing[:3])}{more} not found in the store at "
            f"{store.path}; nothing was added"
        )


def _live_session(store: TraceStore, session: LabelingSession) -> None:
    try:
        store.get_record(SESSION_KIND, session.labeling_session_id)
    except NotFoundError:
        raise NotFoundError(f"labeling session {session.name!r} was deleted") from None


def add(store: TraceStore, session: LabelingSession, ids: list[str]) -> int:
    """Add the traces not in the session yet; returns how many were added."""
    _live_session(store, session)
    _check_exist(store, ids)
    sid = session.labeling_session_id
    for attempt in range(5):
        # by trace id, from the record id (a deletion's data is empty)
        heads = {
            r.id.rsplit(".", 1)[-1]: r
            for r in store.list_records(ITEM_KIND, parent=sid, include_deleted=True)
        }
        position = 1 + max(
            (r.data.get("position", 0) for r in heads.values() if not r.deleted), default=0
        )
        writes = []
        for trace_id in ids:
            head = heads.get(trace_id)
            if head is not None and not head.deleted:
                continue
            data = {"trace_id": trace_id, "position": position}
            position += 1
            writes.append(
                RecordWrite(
                    ITEM_KIND,
                    item_id(sid, trace_id),
                    data,
                    parent=sid,
                    expected_version=head.version if head else 0,
                )
            )
        try:
            for start in range(0, len(writes), WRITE_BATCH):
                store.append_records(writes[start : start + WRITE_BATCH])
        except ConflictError:
            if attempt == 4:
                raise
            continue  # someone added some of them at the same time: look again
        return len(writes)
    raise AssertionError("unreachable")


def remove(store: TraceStore, session: LabelingSession, ids: list[str]) -> int:
    """Take these traces out of the session; returns how many were in it."""
    _live_session(store, session)
    sid = session.labeling_session_id
    wanted = set(ids)
    writes = [
        RecordWrite(ITEM_KIND, r.id, deleted=True, expected_version=r.version)
        for r in store.list_records(ITEM_KIND, parent=sid)
        if r.data.get("trace_id") in wanted
    ]
    for start in range(0, len(writes), WRITE_BATCH):
        store.append_records(writes[start : start + WRITE_BATCH])
    return len(writes)
