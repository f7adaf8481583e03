"""``Dataset``: one version of an evaluation dataset, read from (and changed through) a store
(``datasets/layout.py`` says how it is stored; ``datasets/changes.py`` how it changes).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from otelfeedback._internal.gc_pause import gc_paused
from otelfeedback.datasets import changes
from otelfeedback.datasets import schema as schemas
from otelfeedback.datasets.entities import DatasetDiff, DatasetRecord, DatasetVersion, RecordChange
from otelfeedback.datasets.layout import DATASET, RECORD, VERSION, check_record_ids, version_id
from otelfeedback.datasets.normalize import Incoming, normalize
from otelfeedback.errors import InvalidArgumentError, NotFoundError
from otelfeedback.store.base import TraceStore
from otelfeedback.store.records import Record


def load(store: TraceStore, dataset_id: str, version: int | None = None) -> Dataset:
    """A dataset at ``version`` (None: the latest).

    Raises:
        NotFoundError: no such dataset.
        InvalidArgumentError: ``version`` is not one of its versions.
    """
    try:
        head = store.get_record(DATASET, dataset_id)
    except NotFoundError:
        raise NotFoundError(f"dataset {dataset_id!r} not found") from None
    latest = int(head.data["version"])
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidArgumentError("version", f"expected an int or None, got {version!r:.40}")
    if version is None or version == latest:
        return Dataset(store, head, latest, head.sequence, head.data.get("record_count", 0))
    if not 0 <= version <= latest:
        raise InvalidArgumentError(
            "version",
            f"dataset {head.data['name']!r} has versions 0 to {latest}, got {version!r}",
        )
    if version == 0:
        return Dataset(store, head, 0, 0, 0)
    entry = store.get_record(VERSION, version_id(dataset_id, version))
    return Dataset(store, head, version, entry.sequence, entry.data["record_count"], entry)


class Dataset:
    """One version of a dataset. It never changes under you: it reads the version it was
    loaded at until ``reload()``; its own ``merge_records`` and ``delete_records`` move it to
    the version they make (built on the latest, whoever wrote it).

    >>> ds = create_dataset("golden")                          # doctest: +SKIP
    >>> ds.merge_records([{"inputs": {"q": "What is MLflow?"},  # doctest: +SKIP
    ...                    "expectations": {"expected_response": "A platform"}}])
    >>> ds.version, len(ds.records)                            # doctest: +SKIP
    (1, 1)
    """

    def __init__(
        self,
        store: TraceStore,
        head: Record,
        version: int,
        as_of: int,
        record_count: int,
        entry: Record | None = None,
    ) -> None:
        self._store = store
        self._set(head, version, as_of, record_count, entry)

    def _set(
        self, head: Record, version: int, as_of: int, count: int, entry: Record | None = None
    ) -> None:
        self._head = head
        self.version = version
        self._as_of = as_of
        self.record_count = count
        self._records: list[DatasetRecord] | None = [] if version == 0 else None
        self.last_update_time = entry.created_time_ms if entry else head.updated_time_ms
        self.last_updated_by = entry.created_by if entry else head.updated_by
        if version == 0:
            self.last_update_time, self.last_updated_by = head.created_time_ms, head.created_by

    # -- what it is -------------------------------------------------------------------------
    @property
    def dataset_id(self) -> str:
        return self._head.id

    @property
    def name(self) -> str:
        return str(self._head.data["name"])

    @property
    def description(self) -> str | None:
        return self._head.data.get("description")

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._head.data.get("tags") or {})

    @property
    def latest_version(self) -> int:
        """The latest version when this object was loaded or last changed."""
        return int(self._head.data["version"])

    @property
    def created_time(self) -> int:
        return self._head.created_time_ms

    @property
    def created_by(self) -> str | None:
        return self._head.created_by

    @property
    def schema(self) -> dict[str, dict[str, str]]:
        """Field types of ``inputs`` and ``expectations`` (see ``datasets/schema.py``)."""
        return dict(self._head.data.get("schema") or {s: {} for s in schemas.SECTIONS})

    @property
    def url_path(self) -> str:
        """Where the server shows exactly this version (``/datasets/<id>?version=N``)."""
        return f"/datasets/{self.dataset_id}?version={self.version}"

    def __repr__(self) -> str:
        return (
            f"<Dataset {self.name!r} {self.dataset_id} version {self.version} "
            f"({self.record_count} records)>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (REST, CLI ``--json``), without the records."""
        return {
            "dataset_id": self.dataset_id,
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "version": self.version,
            "latest_version": self.latest_version,
            "record_count": self.record_count,
            "created_time": self.created_time,
            "created_by": self.created_by,
            "last_update_time": self.last_update_time,
            "last_updated_by": self.last_updated_by,
            "schema": self.schema,
        }

    # -- its records --------------------------------------------------------------------------
    @property
    def records(self) -> list[DatasetRecord]:
        """The records of this version, in the order they were added."""
        if self._records is None:
            self._records = self._load(self._as_of)
        return list(self._records)

    def _load(self, as_of: int) -> list[DatasetRecord]:
        found = self._store.list_records(RECORD, parent=self.dataset_id, as_of=as_of)
        with gc_paused():
            records = [DatasetRecord.from_dict(r.data) for r in found]
        records.sort(key=lambda r: r.position)
        return records

    def to_pandas(self) -> Any:
        """The records as a DataFrame (needs ``otelfeedback[pandas]``): ``record_id``,
        ``inputs``, ``outputs``, ``expectations``, ``tags``, ``source``, ``source_type``,
        ``source_id``, created/updated time and who, ``added_in``, ``changed_in``."""
        from otelfeedback.datasets.frames import records_to_frame

        return records_to_frame(self.records)

    # -- versions -------------------------------------------------------------------------------
    def versions(self) -> list[DatasetVersion]:
        """Every version in the store, oldest first (including any made after this one)."""
        entries = self._store.list_records(VERSION, parent=self.dataset_id)
        result = [
            DatasetVersion(
                version=e.data["version"],
                created_time=e.created_time_ms,
                created_by=e.created_by,
                operation=e.data["operation"],
                added=e.data["added"],
                changed=e.data["changed"],
                removed=e.data["removed"],
                record_count=e.data["record_count"],
                sources=e.data.get("sources") or {},
            )
            for e in entries
        ]
        return sorted(result, key=lambda v: v.version)

    def at_version(self, version: int) -> Dataset:
        """Another version of this dataset (a new object; this one is unchanged)."""
        return load(self._store, self.dataset_id, version)

    def diff(self, from_version: int | None = None, to_version: int | None = None) -> DatasetDiff:
        """What changed between two versions (default: from the previous version to this one).

        Raises:
            InvalidArgumentError: a version the dataset does not have.
        """
        to_version = self.version if to_version is None else to_version
        if from_version is None:
            from_version = max(0, to_version - 1) if isinstance(to_version, int) else 0
        old, new = self._version_object(from_version), self._version_object(to_version)
        before = {r.record_id: r for r in old.records}
        after = {r.record_id: r for r in new.records}
        changed = [
            RecordChange(before[k], r)
            for k, r in after.items()
            if k in before and before[k].content() != r.content()
        ]
        return DatasetDiff(
            dataset_id=self.dataset_id,
            name=self.name,
            from_version=from_version,
            to_version=to_version,
            added=[r for k, r in after.items() if k not in before],
            removed=[r for k, r in before.items() if k not in after],
            changed=changed,
            unchanged=sum(1 for k in after if k in before) - len(changed),
        )

    def _version_object(self, version: int) -> Dataset:
        if type(version) is int and version == self.version:
            return self
        return self.at_version(version)

    def reload(self) -> Dataset:
        """Move to the latest version (what other writers made included); returns self."""
        fresh = load(self._store, self.dataset_id)
        self._set(fresh._head, fresh.version, fresh._as_of, fresh.record_count)
        return self

    # -- changes ----------------------------------------------------------------------------
    def merge_records(self, records: Any) -> Dataset:
        """Merge records into the latest version, making a new version (none if nothing
        changes); this object moves to it. See ``docs/datasets.md`` for what is accepted and
        the merge rules.

        Args:
            records: dicts with ``inputs`` (required), ``outputs``, ``expectations``,
                ``tags``, ``source``; ``Trace`` objects; a DataFrame of either.

        Returns:
            self, at the new version.

        Raises:
            InvalidArgumentError: naming ``records[i].field``; nothing is written.
            NotFoundError: the dataset was deleted.
        """
        with gc_paused():  # (many objects, no cycles: see _internal/gc_pause.py)
            batch = normalize(records, self._store.get_trace)
        return self._merge(batch, "merge")

    def import_jsonl(self, path: str | Path) -> Dataset:
        """Merge the records of a JSONL export (``docs/datasets.md``) as one new version,
        keeping their sources and creation; records without a source get ``FILE``.

        Raises:
            InvalidArgumentError: the file cannot be read, or names ``line N`` and the field
                of a bad record; nothing is written.
        """
        from otelfeedback.datasets.jsonl import read_jsonl

        return self._merge(read_jsonl(path), "import")

    def export_jsonl(self, path: str | Path) -> int:
        """Write this version's records to ``path``, one JSON object a line; returns how
        many (``docs/datasets.md`` documents the format).

        Raises:
            InvalidArgumentError: the file cannot be written (nothing is left under its name).
        """
        from otelfeedback.datasets.jsonl import write_jsonl

        return write_jsonl(path, self.records)

    def delete_records(self, record_ids: Iterable[str | DatasetRecord]) -> int:
        """Remove records (by id, or the records themselves) from the latest version, making
        a new version; returns how many were there (0: no new version).

        Raises:
            InvalidArgumentError: ``record_ids[i]`` is not a record id.
            NotFoundError: the dataset was deleted.
        """
        ids = check_record_ids(record_ids)
        counted = [0]

        def make(state: changes.State) -> Any:
            gone = [i for i in dict.fromkeys(ids) if i in state.records]
            counted[0] = len(gone)
            return changes.delete_writes(self.dataset_id, state, gone)

        self._apply(make)
        return counted[0]

    def _merge(self, batch: list[Incoming], operation: str) -> Dataset:
        dataset_id = self.dataset_id
        return self._apply(lambda state: changes.merge_writes(dataset_id, state, batch, operation))

    def _apply(self, make: changes.Change) -> Dataset:
        try:
            head = changes.apply(self._store, self.dataset_id, make)
        except NotFoundError:
            raise NotFoundError(f"dataset {self.name!r} was deleted") from None
        if head.sequence != self._as_of:
            self._set(head, int(head.data["version"]), head.sequence, head.data["record_count"])
        return self
