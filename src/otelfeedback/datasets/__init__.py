"""Evaluation datasets with versions and lineage, in the active store.

::

    from otelfeedback.datasets import create_dataset, get_dataset

    ds = create_dataset("golden", tags={"team": "support"})
    ds.merge_records(otelfeedback.search_traces("expectation.expected_response IS NOT NULL"))
    ds.version                 # 1: every change makes a new, immutable version
    ds.diff(0, 1).added        # what version 1 added
    get_dataset("golden", version=1).to_pandas()

See ``docs/datasets.md``.
"""

from __future__ import annotations

from typing import Any

from otelfeedback.datasets.dataset import Dataset
from otelfeedback.datasets.entities import (
    SOURCE_TYPES,
    DatasetDiff,
    DatasetRecord,
    DatasetVersion,
    RecordChange,
)

__all__ = [
    "SOURCE_TYPES",
    "Dataset",
    "DatasetDiff",
    "DatasetRecord",
    "DatasetVersion",
    "RecordChange",
    "create_dataset",
    "delete_dataset",
    "get_dataset",
    "list_datasets",
]


def _store() -> Any:
    """The active store, after flushing this process's pending spans (so traces just made
    can be merged by id)."""
    from otelfeedback.api._store import read_store

    return read_store()


def create_dataset(
    name: str, *, tags: dict[str, str] | None = None, description: str | None = None
) -> Dataset:
    """Create an empty dataset (version 0) in the active store.

    Args:
        name: unique in the store; 1 to 200 characters, no ``/``.
        tags: string labels of the dataset.
        description: free text.

    Raises:
        InvalidArgumentError: a bad argument, or a dataset with this name exists.
    """
    from otelfeedback.datasets import catalog

    return catalog.create(_store(), name, tags=tags, description=description)


def get_dataset(name_or_id: str, version: int | None = None) -> Dataset:
    """A dataset by name or id (``d-...``) at ``version`` (None: the latest).

    Raises:
        NotFoundError: no such dataset.
        InvalidArgumentError: a version it does not have.
    """
    from otelfeedback.datasets import catalog

    return catalog.get(_store(), name_or_id, version)


def list_datasets() -> list[Dataset]:
    """Every dataset of the active store at its latest version, by name."""
    from otelfeedback.datasets import catalog

    return catalog.list_all(_store())


def delete_dataset(name_or_id: str) -> None:
    """Delete a dataset (its history stays in the store; its name is free again).

    Raises:
        NotFoundError: no such dataset.
    """
    from otelfeedback.datasets import catalog

    catalog.delete(_store(), name_or_id)
