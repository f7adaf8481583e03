"""What a dataset is made of: its records, its versions and the diff between two versions.

A ``DatasetRecord`` is one example: ``inputs`` (a JSON object, which also identifies the
record), optional ``outputs``, ``expectations`` (ground truth by name, e.g.
``expected_response``), ``tags``, and its lineage: where it came from (``source``), who created
it and when, and the dataset versions that added it and last changed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Where a record came from (``source["source_type"]``).
SOURCE_TYPES = (
    "TRACE",  # source_id: the trace id
    "LABELING_SESSION",  # source_id: the session id
    "FILE",  # source_id: the file name (import_jsonl)
    "HUMAN",  # entered by hand (inferred for a dict with expectations)
    "CODE",  # generated (inferred for a dict with inputs only)
    "DOCUMENT",  # source_id: a document's URI
    "UNSPECIFIED",
)


@dataclass(frozen=True)
class DatasetRecord:
    """One record of a dataset version.

    Attributes:
        record_id: ``r-`` and 32 hex characters of the SHA-256 of the canonical inputs JSON
            (sorted keys, compact, ASCII): the same inputs are the same record.
        inputs: what the app is called with (a JSON object).
        outputs: what it answered, if recorded (any JSON; None when absent).
        expectations: ground truth by name (``expected_response``, ``expected_facts``,
            ``guidelines``...).
        tags: string labels.
        source: ``{"source_type": ..., "source_id": ...}`` (see ``SOURCE_TYPES``).
        created_time / created_by: when and by whom the record was first added (kept by
            merges and by export/import).
        last_update_time / last_updated_by: its last change.
        added_in / changed_in: the dataset versions that added it and last changed it.
        position: its place in the dataset (records keep the order they were added in).
    """

    record_id: str
    inputs: dict[str, Any]
    outputs: Any = None
    expectations: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    created_time: int = 0
    created_by: str | None = None
    last_update_time: int = 0
    last_updated_by: str | None = None
    added_in: int = 0
    changed_in: int = 0
    position: int = 0

    @property
    def source_type(self) -> str:
        return str(self.source.get("source_type") or "UNSPECIFIED")

    @property
    def source_id(self) -> str | None:
        value = self.source.get("source_id")
        return None if value is None else str(value)

    def content(self) -> dict[str, Any]:
        """What the record says (compared by ``diff``): inputs, outputs, expectations, tags."""
        return {
            "inputs": self.inputs,
            "outputs": self.outputs,
            "expectations": self.expectations,
            "tags": self.tags,
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (stored as a record's data; REST; one line of an export)."""
        return {
            "record_id": self.record_id,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "expectations": self.expectations,
            "tags": self.tags,
            "source": self.source,
            "created_time": self.created_time,
            "created_by": self.created_by,
            "last_update_time": self.last_update_time,
            "last_updated_by": self.last_updated_by,
            "added_in": self.added_in,
            "changed_in": self.changed_in,
            "position": self.position,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetRecord:
        """From ``to_dict``'s form (as stored; not for user input: see ``normalize``)."""
        if len(data) == _FIELD_COUNT:  # all there: skip the per-field frozen __setattr__
            record = object.__new__(cls)
            record.__dict__.update(data)
            return record
        return cls(
            data["record_id"],
            data["inputs"],
            data.get("outputs"),
            data.get("expectations") or {},
            data.get("tags") or {},
            data.get("source") or {},
            data.get("created_time", 0),
            data.get("created_by"),
            data.get("last_update_time", 0),
            data.get("last_updated_by"),
            data.get("added_in", 0),
            data.get("changed_in", 0),
            data.get("position", 0),
        )


@dataclass(frozen=True)
class DatasetVersion:
    """One version of a dataset: who made it, when, and what it changed.

    Attributes:
        version: 1, 2, 3... (0 is the empty dataset as created; it has no entry).
        created_time / created_by: when and by whom.
        operation: ``merge``, ``delete`` or ``import``.
        added / changed / removed: records added, changed and removed by this version.
        record_count: records in this version.
        sources: how many added or changed records came from each source type.
    """

    version: int
    created_time: int
    created_by: str | None
    operation: str
    added: int
    changed: int
    removed: int
    record_count: int
    sources: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_time": self.created_time,
            "created_by": self.created_by,
            "operation": self.operation,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "record_count": self.record_count,
            "sources": self.sources,
        }


@dataclass(frozen=True)
class RecordChange:
    """A record in both versions of a diff, with different content."""

    old: DatasetRecord
    new: DatasetRecord

    @property
    def fields(self) -> list[str]:
        """Which of inputs, outputs, expectations, tags differ."""
        old, new = self.old.content(), self.new.content()
        return [name for name in old if old[name] != new[name]]

    def to_dict(self) -> dict[str, Any]:
        return {"fields": self.fields, "old": self.old.to_dict(), "new": self.new.to_dict()}


@dataclass(frozen=True)
class DatasetDiff:
    """What changed from version ``from_version`` to ``to_version`` (either may be the
    older one); records by id, changes when inputs, outputs, expectations or tags differ."""

    dataset_id: str
    name: str
    from_version: int
    to_version: int
    added: list[DatasetRecord]
    removed: list[DatasetRecord]
    changed: list[RecordChange]
    unchanged: int

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "name": self.name,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "added": [r.to_dict() for r in self.added],
            "removed": [r.to_dict() for r in self.removed],
            "changed": [c.to_dict() for c in self.changed],
            "unchanged": self.unchanged,
        }


_FIELD_COUNT = len(DatasetRecord.__dataclass_fields__)
