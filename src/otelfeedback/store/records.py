"""Records that are not spans: label schemas, labeling sessions and their items, datasets and
their versions, evaluation runs. The model, the rules and the line format every store shares.

A record is a JSON object (``data``) stored under a ``kind`` and an ``id``. Every write appends a
new **version** (1, 2, 3, ... per record, never rewritten) and gets a store-wide **sequence**
number, assigned atomically by the store: concurrent writers never overwrite each other. A write
may say which version it expects to replace (``expected_version``, 0 for "does not exist yet");
if the store holds another, the whole batch fails with ``ConflictError``. Deleting appends a
tombstone version (``deleted=True``, empty data); the history stays.

This module holds the model; ``record_checks.py`` the checks of what is written,
``record_batches.py`` the version planning and the line format; ``record_index.py`` the file
store's index of them.

>>> write = RecordWrite("dataset", "d-1", {"name": "golden"})
>>> write.kind, write.expected_version
('dataset', None)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from otelfeedback.errors import InvalidArgumentError

KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
#: Deepest nesting of lists and objects accepted in ``data`` (the object itself is level 1).
MAX_DEPTH = 100
MAX_AUTHOR = 256
#: Largest integer accepted (Python's JSON refuses to write more than 4,300 digits).
MAX_INT_BITS = 13_000

_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ASCII = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def json_text(value: Any) -> str:
    """Compact JSON of ``value`` that always encodes as UTF-8: non-ASCII characters as they
    are, unless the value holds a lone surrogate (which UTF-8 cannot carry); then the whole
    text is ASCII with ``\\uXXXX`` escapes, which decode back to the same string."""
    text = _TEXT.encode(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _ASCII.encode(value)
    return text


@dataclass(frozen=True)
class Record:
    """One stored version of a record.

    Attributes:
        kind: what it is (``dataset``, ``label_schema``...).
        id: unique within its kind.
        version: 1, 2, 3... per record, in write order.
        sequence: store-wide write order; reading "as of" a sequence gives a snapshot.
        data: the JSON object (empty for a deletion).
        parent: the record it belongs to (e.g. a dataset record's dataset), or None.
        deleted: whether this version is a deletion (a tombstone).
        created_time_ms / created_by: when and by whom the record was created (a deleted
            record written again starts over).
        updated_time_ms / updated_by: when and by whom this version was written.
    """

    kind: str
    id: str
    version: int
    sequence: int
    data: dict[str, Any]
    parent: str | None = None
    deleted: bool = False
    created_time_ms: int = 0
    created_by: str | None = None
    updated_time_ms: int = 0
    updated_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (REST API, one entry of a segment line)."""
        return {**self._meta(), "data": self.data}

    def _meta(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "version": self.version,
            "sequence": self.sequence,
            "parent": self.parent,
            "deleted": self.deleted,
            "created_time_ms": self.created_time_ms,
            "created_by": self.created_by,
            "updated_time_ms": self.updated_time_ms,
            "updated_by": self.updated_by,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Record:
        """The record of a JSON form; ``ValueError`` naming the field if it is not one."""
        if not isinstance(data, dict):
            raise ValueError("a record is a JSON object")
        payload = data.get("data")
        if not isinstance(payload, dict):
            raise ValueError("record data: expected an object")
        return cls(
            kind=_pattern(data.get("kind"), KIND_PATTERN, "kind"),
            id=_pattern(data.get("id"), ID_PATTERN, "id"),
            version=_positive(data.get("version"), "version"),
            sequence=_positive(data.get("sequence"), "sequence"),
            data=payload,
            parent=_optional_id(data.get("parent")),
            deleted=_bool(data.get("deleted", False), "deleted"),
            created_time_ms=_time(data.get("created_time_ms"), "created_time_ms"),
            created_by=_optional_text(data.get("created_by"), "created_by"),
            updated_time_ms=_time(data.get("updated_time_ms"), "updated_time_ms"),
            updated_by=_optional_text(data.get("updated_by"), "updated_by"),
        )


_new = object.__new__


def build_record(
    kind: str,
    record_id: str,
    version: int,
    sequence: int,
    data: dict[str, Any],
    parent: str | None,
    deleted: bool,
    created_time_ms: int,
    created_by: str | None,
    updated_time_ms: int,
    updated_by: str | None,
) -> Record:
    """``Record(...)`` for stores building many at once: the same object, without the frozen
    dataclass's per-field ``__setattr__`` (a third of the time of loading 100,000)."""
    record = _new(Record)
    record.__dict__.update(
        kind=kind,
        id=record_id,
        version=version,
        sequence=sequence,
        data=data,
        parent=parent,
        deleted=deleted,
        created_time_ms=created_time_ms,
        created_by=created_by,
        updated_time_ms=updated_time_ms,
        updated_by=updated_by,
    )
    return record


class RecordWrite(NamedTuple):
    """One write of a batch (``TraceStore.append_records``).

    Attributes:
        kind: the record's kind (lowercase letters, digits, ``_``; at most 64).
        id: its id (letters, digits, ``. _ : -``; at most 200; not starting with a symbol).
        data: a JSON object (ignored for a deletion).
        parent: the id of the record it belongs to, fixed while it lives.
        expected_version: fail with ``ConflictError`` unless the store holds this version
            (0: the record must not exist yet). None: no check.
        deleted: write a deletion (the record must exist and not be deleted).
    """

    kind: str
    id: str
    data: dict[str, Any] = {}  # noqa: RUF012  (never mutated: a deletion's data is ignored)
    parent: str | None = None
    expected_version: int | None = None
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the REST API takes."""
        result: dict[str, Any] = {"kind": self.kind, "id": self.id, "data": self.data}
        if self.parent is not None:
            result["parent"] = self.parent
        if self.expected_version is not None:
            result["expected_version"] = self.expected_version
        if self.deleted:
            result["deleted"] = True
        return result

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RecordWrite:
        """A write from its JSON form (``where`` names it in errors).

        Raises:
            InvalidArgumentError: a field is missing or of the wrong type.
        """
        if not isinstance(data, dict):
            raise InvalidArgumentError(where, "expected an object {kind, id, data, ...}")
        unknown = set(data) - {"kind", "id", "data", "parent", "expected_version", "deleted"}
        if unknown:
            raise InvalidArgumentError(f"{where}.{sorted(unknown)[0]}", "unknown field")
        return cls(
            kind=data.get("kind"),  # type: ignore[arg-type]  # checked by check_writes
            id=data.get("id"),  # type: ignore[arg-type]
            data=data.get("data", {}),
            parent=data.get("parent"),
            expected_version=data.get("expected_version"),
            deleted=data.get("deleted", False),
        )


class Head(NamedTuple):
    """What a store knows of a record's latest version when planning a write."""

    version: int
    deleted: bool
    parent: str | None
    created_time_ms: int
    created_by: str | None
    sequence: int = 0  # of that version (0: unknown)


class RecordMethods:
    """The conveniences every store gets from its ``append_records`` (one record) and its
    ``list_records_page`` (a whole listing)."""

    def append_records(
        self, writes: Sequence[RecordWrite], *, author: str | None = None
    ) -> list[Record]:
        raise NotImplementedError

    def list_records_page(
        self,
        kind: str,
        *,
        parent: str | None = None,
        as_of: int | None = None,
        include_deleted: bool = False,
        after: str | None = None,
        limit: int | None = None,
        changed_after: int | None = None,
    ) -> tuple[list[Record], int]:
        raise NotImplementedError

    def list_records(
        self,
        kind: str,
        *,
        parent: str | None = None,
        as_of: int | None = None,
        include_deleted: bool = False,
        changed_after: int | None = None,
    ) -> list[Record]:
        """The latest version of every record of ``kind`` (with this ``parent``), by id;
        with ``as_of``, as they were when the store's sequence was ``as_of``; with
        ``changed_after``, only those written after that sequence (a cache catches up with
        it: pass ``include_deleted=True`` to see deletions too)."""
        return self.list_records_page(
            kind,
            parent=parent,
            as_of=as_of,
            include_deleted=include_deleted,
            changed_after=changed_after,
        )[0]

    def append_record(
        self,
        kind: str,
        record_id: str,
        data: dict[str, Any],
        *,
        parent: str | None = None,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> Record:
        """Append a new version of one record (see ``append_records``)."""
        write = RecordWrite(kind, record_id, data, parent, expected_version)
        return self.append_records([write], author=author)[0]

    def delete_record(
        self,
        kind: str,
        record_id: str,
        *,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> Record:
        """Append a deletion of one record (see ``append_records``)."""
        write = RecordWrite(kind, record_id, {}, None, expected_version, deleted=True)
        return self.append_records([write], author=author)[0]


# -- field checks for decoding ----------------------------------------------------------------
def _pattern(value: Any, pattern: re.Pattern[str], name: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"record {name}: {value!r:.80} is not valid")
    return value


def _optional_id(value: Any) -> str | None:
    return None if value is None else _pattern(value, ID_PATTERN, "parent")


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        raise ValueError(f"record {name}: expected a positive int, got {value!r:.40}")
    return value


def _time(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError(f"record {name}: expected milliseconds, got {value!r:.40}")
    return value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"record {name}: expected true or false")
    return value


def _optional_text(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"record {name}: expected a string or null")
    return value
