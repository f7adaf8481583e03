"""How a dataset lives in the records store, and the helpers every change shares.

Four kinds of record: ``dataset`` (id ``d-<32 hex>``: name, description, tags, latest version,
schema, record count), ``dataset_name`` (one per name, so a name is taken once, atomically),
``dataset_version`` (one per version: who, when, what it changed; its store sequence is the
snapshot the version reads) and ``dataset_record`` (one per record, each change a new record
version, a removal a tombstone).
"""

from __future__ import annotations

import getpass
import random
import re
import time
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, TypeVar

from otelfeedback.datasets.entities import DatasetRecord
from otelfeedback.errors import ConflictError, InvalidArgumentError

DATASET = "dataset"
NAME = "dataset_name"
VERSION = "dataset_version"
RECORD = "dataset_record"
#: Attempts of a change that keeps losing the race to other writers.
MAX_ATTEMPTS = 50
RECORD_ID = re.compile(r"r-[0-9a-f]{32}")
T = TypeVar("T")


@cache
def current_user() -> str | None:
    """Who makes changes from this process (the OS user name), as ``created_by``."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (some containers)
        return None


def version_id(dataset_id: str, version: int) -> str:
    """The id of a version's record."""
    return f"{dataset_id}.v{version}"


def record_key(dataset_id: str, record_id: str) -> str:
    """The store id of a dataset record (record ids are unique within a dataset only)."""
    return f"{dataset_id}.{record_id}"


def retrying(attempt: Callable[[], T]) -> T:
    """Run a read-change-write ``attempt`` again while it loses races (``ConflictError``)."""
    for tries in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except ConflictError:
            if tries == MAX_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.002 * (tries + 1)))
    raise AssertionError("unreachable")


def check_record_ids(record_ids: Any) -> list[str]:
    """Record ids (or ``DatasetRecord``s) as ids.

    Raises:
        InvalidArgumentError: not a list, or ``record_ids[i]`` is not ``r-`` and 32 hex.
    """
    if isinstance(record_ids, (str, bytes)) or not isinstance(record_ids, Iterable):
        raise InvalidArgumentError("record_ids", "expected a list of record ids")
    ids = []
    for i, item in enumerate(record_ids):
        value = item.record_id if isinstance(item, DatasetRecord) else item
        if not isinstance(value, str) or not RECORD_ID.fullmatch(value):
            raise InvalidArgumentError(f"record_ids[{i}]", f"not a record id: {value!r:.60}")
        ids.append(value)
    return ids
