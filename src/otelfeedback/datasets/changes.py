"""Changing a dataset: one atomic batch per change, retried while other writers win.

A change reads the latest version (the ``dataset`` head and its records as of the head's
sequence), makes its writes (the changed ``dataset_record``s, the new ``dataset_version``, and
the head written expecting the version it was read at) and appends them as one batch. If
another writer made a version meanwhile, the batch fails with ``ConflictError`` and nothing is
written; the change is made again on the new latest version. So no change is lost and no
version is made twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from otelfeedback._internal.gc_pause import gc_paused
from otelfeedback.datasets import merge as merging
from otelfeedback.datasets import schema as schemas
from otelfeedback.datasets.entities import DatasetRecord
from otelfeedback.datasets.layout import (
    DATASET,
    RECORD,
    VERSION,
    current_user,
    record_key,
    retrying,
    version_id,
)
from otelfeedback.datasets.normalize import Incoming
from otelfeedback.store.base import TraceStore
from otelfeedback.store.records import Record, RecordWrite


@dataclass
class State:
    """The latest version a change is made on: its head record and records by id."""

    head: Record
    records: dict[str, DatasetRecord]


#: Makes the writes of a change from the latest state (None: nothing changes).
Change = Callable[[State], "list[RecordWrite] | None"]


def apply(store: TraceStore, dataset_id: str, make: Change) -> Record:
    """Make a change on the latest version, retrying while other writers win the race.

    Returns:
        The head record after the change (the latest one when nothing changed).

    Raises:
        NotFoundError: the dataset does not exist (or was deleted).
        ConflictError: other writers won every one of ``MAX_ATTEMPTS`` attempts.
    """

    def attempt() -> Record:
        head = store.get_record(DATASET, dataset_id)
        found = store.list_records(RECORD, parent=dataset_id, as_of=head.sequence)
        with gc_paused():  # (many objects, no cycles: see _internal/gc_pause.py)
            records = {r.data["record_id"]: DatasetRecord.from_dict(r.data) for r in found}
            writes = make(State(head, records))
            if writes is None:
                return head
            return store.append_records(writes, author=current_user())[-1]

    return retrying(attempt)


def merge_writes(
    dataset_id: str, state: State, batch: list[Incoming], operation: str = "merge"
) -> list[RecordWrite] | None:
    """The writes of merging ``batch`` (``datasets/merge.py``), None if nothing changes.

    Raises:
        InvalidArgumentError: the batch breaks the dataset's schema.
    """
    data = dict(state.head.data)
    data["schema"] = schemas.extend(data.get("schema") or {}, batch)
    version = int(data["version"]) + 1
    now = time.time_ns() // 1_000_000
    position = int(data.get("next_position", 0))
    result = merging.merge(state.records, batch, version, now, current_user(), position)
    if not result.records:
        return None
    out = [
        RecordWrite(RECORD, record_key(dataset_id, key), record.to_dict(), dataset_id)
        for key, record in result.records.items()
    ]
    data["next_position"] = result.next_position
    counts = {"added": result.added, "changed": result.changed, "removed": 0}
    return out + version_writes(
        dataset_id, state.head, operation, counts, dict(result.sources), data
    )


def delete_writes(dataset_id: str, state: State, gone: list[str]) -> list[RecordWrite] | None:
    """The writes of removing the records ``gone`` (ids that are in ``state``), None if none."""
    if not gone:
        return None
    out = [RecordWrite(RECORD, record_key(dataset_id, i), deleted=True) for i in gone]
    counts = {"added": 0, "changed": 0, "removed": len(gone)}
    return out + version_writes(dataset_id, state.head, "delete", counts, {}, state.head.data)


def version_writes(
    dataset_id: str,
    head: Record,
    operation: str,
    counts: dict[str, int],
    sources: dict[str, int],
    data: dict[str, Any],
) -> list[RecordWrite]:
    """The new version's record and the head, written expecting the version it was read at
    (which makes a lost race a ``ConflictError``)."""
    version = int(head.data["version"]) + 1
    count = int(head.data.get("record_count", 0)) + counts["added"] - counts["removed"]
    entry = {
        "version": version,
        "operation": operation,
        **counts,
        "record_count": count,
        "sources": sources,
    }
    new_head = {**data, "version": version, "record_count": count}
    return [
        RecordWrite(VERSION, version_id(dataset_id, version), entry, dataset_id, 0),
        RecordWrite(DATASET, dataset_id, new_head, None, head.version),
    ]
