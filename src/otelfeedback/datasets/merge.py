"""Merge semantics: what a batch of incoming records does to a dataset version.

The upsert key is the record id (the hash of the canonical inputs). A new id adds a record.
An existing one is merged: ``expectations`` and ``tags`` are merged key by key (the incoming
keys win), ``outputs`` is replaced when given (kept when not), and the record keeps its
source, its creator and its creation time; its last update and ``changed_in`` move. A merge
that changes nothing in a record does not count as a change; a batch that changes nothing
makes no version. Records with the same inputs within one batch merge in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from otelfeedback.datasets.entities import DatasetRecord
from otelfeedback.datasets.normalize import Incoming


@dataclass
class MergeResult:
    """The records a batch writes (new states by id) and what it did."""

    records: dict[str, DatasetRecord] = field(default_factory=dict)
    added: int = 0
    changed: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    next_position: int = 0


def _inferred_source(incoming: Incoming) -> dict[str, object]:
    """No source given: HUMAN when it carries expectations, else CODE."""
    return {"source_type": "HUMAN" if incoming.expectations else "CODE", "source_id": None}


def _new(
    incoming: Incoming, version: int, now_ms: int, author: str | None, position: int
) -> DatasetRecord:
    lineage = incoming.lineage or {}
    return DatasetRecord.from_dict(
        {
            "record_id": incoming.record_id,
            "inputs": incoming.inputs,
            "outputs": incoming.outputs if incoming.has_outputs else None,
            "expectations": dict(incoming.expectations or {}),
            "tags": dict(incoming.tags or {}),
            "source": incoming.source or _inferred_source(incoming),
            "created_time": lineage.get("created_time", now_ms),
            "created_by": lineage.get("created_by", author),
            "last_update_time": lineage.get("last_update_time", now_ms),
            "last_updated_by": lineage.get("last_updated_by", author),
            "added_in": version,
            "changed_in": version,
            "position": position,
        }
    )


def _merged(
    old: DatasetRecord, incoming: Incoming, version: int, now_ms: int, author: str | None
) -> DatasetRecord | None:
    expectations = {**old.expectations, **(incoming.expectations or {})}
    tags = {**old.tags, **(incoming.tags or {})}
    outputs = incoming.outputs if incoming.has_outputs else old.outputs
    if expectations == old.expectations and tags == old.tags and outputs == old.outputs:
        return None
    return replace(
        old,
        outputs=outputs,
        expectations=expectations,
        tags=tags,
        last_update_time=now_ms,
        last_updated_by=author,
        changed_in=version,
    )


def merge(
    current: Mapping[str, DatasetRecord],
    batch: Sequence[Incoming],
    version: int,
    now_ms: int,
    author: str | None,
    next_position: int,
) -> MergeResult:
    """Apply ``batch`` to the records of the latest version (``current``, by id) as the
    changes of ``version``; new records take positions from ``next_position`` on."""
    result = MergeResult(next_position=next_position)
    for incoming in batch:
        key = incoming.record_id
        old = result.records.get(key) or current.get(key)
        if old is None:
            new = _new(incoming, version, now_ms, author, result.next_position)
            result.next_position += 1
        else:
            merged = _merged(old, incoming, version, now_ms, author)
            if merged is None:
                continue
            new = merged
        result.records[key] = new
    result.sources.update(r.source_type for r in result.records.values())
    result.added = sum(1 for key in result.records if key not in current)
    result.changed = len(result.records) - result.added
    return result
