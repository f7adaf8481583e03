"""Creating, finding, listing and deleting datasets in a given store (the public functions in
``otelfeedback.datasets`` call these with the active store; the server and the command line
with theirs)."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from otelfeedback.datasets.dataset import Dataset, load
from otelfeedback.datasets.layout import DATASET, NAME, current_user, retrying
from otelfeedback.datasets.schema import SECTIONS
from otelfeedback.errors import ConflictError, InvalidArgumentError, NotFoundError
from otelfeedback.store.base import TraceStore
from otelfeedback.store.record_checks import check_json, check_object
from otelfeedback.store.records import RecordWrite

DATASET_ID = re.compile(r"d-[0-9a-f]{32}")
MAX_NAME = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f/]")


def check_name(name: Any) -> str:
    """A dataset name: 1 to 200 characters, no ``/``, no control characters, no spaces at
    either end, not shaped like a dataset id.

    Raises:
        InvalidArgumentError: naming ``name``.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError("name", f"expected a non-empty string, got {name!r:.60}")
    if name != name.strip() or len(name) > MAX_NAME or _CONTROL.search(name):
        raise InvalidArgumentError(
            "name",
            f"at most {MAX_NAME} characters, no '/', no control characters, no spaces at "
            f"either end: {name!r:.60}",
        )
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError("name", "contains a lone surrogate") from None
    if DATASET_ID.fullmatch(name):
        raise InvalidArgumentError("name", "looks like a dataset id (d-...); choose another")
    return name


def name_record_id(name: str) -> str:
    """The id of the record that reserves a name (any name fits an id this way)."""
    return "n-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:40]


def _tags(tags: Any) -> dict[str, str]:
    if tags is None:
        return {}
    check_object(tags, "tags")
    for key, value in tags.items():
        if not isinstance(value, str):
            raise InvalidArgumentError(f"tags.{key}", "tag values are strings")
    return dict(tags)


def create(
    store: TraceStore,
    name: str,
    *,
    tags: dict[str, str] | None = None,
    description: str | None = None,
) -> Dataset:
    """A new, empty dataset (version 0).

    Raises:
        InvalidArgumentError: a bad name, tags or description, or the name is taken.
    """
    check_name(name)
    tags = _tags(tags)
    if description is not None:
        if not isinstance(description, str):
            raise InvalidArgumentError("description", "expected a string or None")
        check_json(description, "description")
    dataset_id = "d-" + uuid.uuid4().hex
    name_id = name_record_id(name)
    history = store.record_history(NAME, name_id)
    if history and not history[-1].deleted:
        taken_by = history[-1].data.get("dataset_id")
        raise InvalidArgumentError("name", f"a dataset named {name!r} exists ({taken_by})")
    head: dict[str, Any] = {
        "name": name,
        "description": description,
        "tags": tags,
        "version": 0,
        "record_count": 0,
        "next_position": 0,
        "schema": {section: {} for section in SECTIONS},
    }
    writes = [
        RecordWrite(
            NAME,
            name_id,
            {"name": name, "dataset_id": dataset_id},
            None,
            history[-1].version if history else 0,
        ),
        RecordWrite(DATASET, dataset_id, head, None, 0),
    ]
    try:
        stored = store.append_records(writes, author=current_user())
    except ConflictError:
        raise InvalidArgumentError(
            "name", f"a dataset named {name!r} was just created by another writer"
        ) from None
    return Dataset(store, stored[-1], 0, stored[-1].sequence, 0)


def resolve(store: TraceStore, name_or_id: str) -> str:
    """The dataset id of a name or id.

    Raises:
        NotFoundError: no dataset has this name.
        InvalidArgumentError: not a string.
    """
    if not isinstance(name_or_id, str) or not name_or_id:
        raise InvalidArgumentError("name_or_id", f"expected a name or id, got {name_or_id!r:.60}")
    if DATASET_ID.fullmatch(name_or_id):
        return name_or_id
    check_name(name_or_id)
    try:
        return str(store.get_record(NAME, name_record_id(name_or_id)).data["dataset_id"])
    except NotFoundError:
        raise NotFoundError(f"no dataset named {name_or_id!r}") from None


def get(store: TraceStore, name_or_id: str, version: int | None = None) -> Dataset:
    """A dataset by name or id, at ``version`` (None: the latest).

    Raises:
        NotFoundError: no such dataset.
        InvalidArgumentError: a version it does not have.
    """
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidArgumentError("version", f"expected an int or None, got {version!r:.40}")
    return load(store, resolve(store, name_or_id), version)


def list_all(store: TraceStore) -> list[Dataset]:
    """Every dataset at its latest version, by name."""
    heads = store.list_records(DATASET)
    found = [
        Dataset(store, h, h.data["version"], h.sequence, h.data["record_count"]) for h in heads
    ]
    return sorted(found, key=lambda d: (d.name.lower(), d.name))


def delete(store: TraceStore, name_or_id: str) -> None:
    """Delete a dataset: it disappears from lists and lookups, its name is free again, and
    its history stays in the store (a ``Dataset`` object still reads its version).

    Raises:
        NotFoundError: no such dataset.
    """
    dataset_id = resolve(store, name_or_id)

    def attempt() -> None:
        try:
            head = store.get_record(DATASET, dataset_id)
        except NotFoundError:
            raise NotFoundError(f"dataset {name_or_id!r} not found") from None
        name_id = name_record_id(head.data["name"])
        writes = [RecordWrite(DATASET, dataset_id, {}, None, head.version, deleted=True)]
        try:
            name = store.get_record(NAME, name_id)
        except NotFoundError:
            name = None
        if name is not None and name.data.get("dataset_id") == dataset_id:
            writes.append(RecordWrite(NAME, name_id, {}, None, name.version, deleted=True))
        store.append_records(writes, author=current_user())

    retrying(attempt)
