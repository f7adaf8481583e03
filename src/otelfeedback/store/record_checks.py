"""The checks of what is written to the records store (``store/records.py``): a batch of
writes, kinds, ids, authors, and ``data`` that must be JSON which comes back exactly as it went
in. Every error is an ``InvalidArgumentError`` naming the path of the bad value
(``records[0].data.inputs.score``)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.store.records import (
    ID_PATTERN,
    KIND_PATTERN,
    MAX_AUTHOR,
    MAX_DEPTH,
    MAX_INT_BITS,
    RecordWrite,
)


class _Bad(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.path: list[str] = []


_LEAVES = frozenset({str, bool, type(None)})  # exact types that need no check


def _walk(value: Any, depth: int) -> None:
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items, keyed = value.items(), True
    elif isinstance(value, (list, tuple)):
        items, keyed = enumerate(value), False
    else:
        _scalar(value)
        return
    if depth > MAX_DEPTH:
        raise _Bad(f"nested deeper than {MAX_DEPTH} levels")
    for key, item in items:
        if keyed and not isinstance(key, str):
            raise _Bad(f"object keys must be strings, got {type(key).__name__} {key!r:.40}")
        kind = type(item)
        if kind in _LEAVES:
            continue
        if kind is int and item.bit_length() <= MAX_INT_BITS:
            continue
        if kind is float and item - item == 0.0:  # finite (NaN and ±Infinity give NaN)
            continue
        try:
            _walk(item, depth + 1)
        except _Bad as bad:
            text = str(key)
            if not keyed:
                bad.path.append(f"[{text}]")
            else:
                bad.path.append(f".{text}" if text.isidentifier() else f"[{json.dumps(text)}]")
            raise


def _scalar(value: Any) -> None:
    if isinstance(value, str) or value is None:
        return
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise _Bad(f"an integer of more than {MAX_INT_BITS:,} bits (about 3,900 digits)")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad(
                f"{value!r} is not a JSON number (NaN and ±Infinity have no JSON form; "
                "store None or a string instead)"
            )
        return
    raise _Bad(f"expected a JSON value, got {type(value).__name__}")


def check_json(value: Any, where: str) -> None:
    """Check that ``value`` is JSON that round-trips exactly: strings (any, including empty
    ones and lone surrogates), ints of any size, finite floats, bools, None, lists (tuples
    come back as lists) and objects with string keys, at most ``MAX_DEPTH`` levels deep.

    Raises:
        InvalidArgumentError: naming the first bad value's path, e.g. ``data.inputs.x``.
    """
    try:
        _walk(value, 1)
    except _Bad as bad:
        raise InvalidArgumentError(where + "".join(reversed(bad.path)), str(bad)) from None


def check_object(value: Any, where: str) -> dict[str, Any]:
    """``value`` if it is a JSON object (``check_json``); else ``InvalidArgumentError``."""
    if not isinstance(value, dict):
        raise InvalidArgumentError(where, f"expected a JSON object, got {type(value).__name__}")
    check_json(value, where)
    return value


def check_kind(kind: Any, where: str = "kind") -> str:
    if not isinstance(kind, str) or not KIND_PATTERN.fullmatch(kind):
        raise InvalidArgumentError(
            where, f"expected lowercase letters, digits and _ (at most 64), got {kind!r}"
        )
    return kind


def check_id(record_id: Any, where: str = "id") -> str:
    if not isinstance(record_id, str) or not ID_PATTERN.fullmatch(record_id):
        raise InvalidArgumentError(
            where,
            "expected letters, digits and . _ : - (at most 200, starting with a letter or "
            f"digit), got {record_id!r}",
        )
    return record_id


def check_author(author: Any) -> str | None:
    if author is None:
        return None
    if not isinstance(author, str) or len(author) > MAX_AUTHOR:
        raise InvalidArgumentError("author", f"expected a string of at most {MAX_AUTHOR}")
    check_json(author, "author")
    return author


def check_writes(writes: Any) -> list[RecordWrite]:
    """The batch as a list, every write checked (errors name ``records[i].field``).

    Raises:
        InvalidArgumentError: the batch is empty or a write is malformed.
    """
    if isinstance(writes, (str, bytes, Mapping)) or not isinstance(writes, Iterable):
        raise InvalidArgumentError("records", "expected a list of RecordWrite")
    batch = list(writes)
    if not batch:
        raise InvalidArgumentError("records", "expected at least one write")
    for i, write in enumerate(batch):
        where = f"records[{i}]"
        if not isinstance(write, RecordWrite):
            raise InvalidArgumentError(where, f"expected a RecordWrite, got {write!r:.80}")
        check_kind(write.kind, f"{where}.kind")
        check_id(write.id, f"{where}.id")
        if write.parent is not None:
            check_id(write.parent, f"{where}.parent")
        if not isinstance(write.deleted, bool):
            raise InvalidArgumentError(f"{where}.deleted", "expected true or false")
        expected = write.expected_version
        if expected is not None and (
            isinstance(expected, bool) or not isinstance(expected, int) or expected < 0
        ):
            raise InvalidArgumentError(
                f"{where}.expected_version", f"expected an int >= 0 or None, got {expected!r}"
            )
        check_object(write.data, f"{where}.data")
    return batch


def check_version(version: Any) -> None:
    """``version`` is None or a record version (1 to 2**63-1), else ``InvalidArgumentError``."""
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**63
    ):
        raise InvalidArgumentError("version", f"expected a positive int or None, got {version!r}")


def check_sequence(as_of: Any, argument: str = "as_of") -> None:
    """``as_of`` is None or a store sequence (0 to 2**63-1), else ``InvalidArgumentError``
    naming ``argument``."""
    if as_of is not None and (
        isinstance(as_of, bool) or not isinstance(as_of, int) or not 0 <= as_of < 2**63
    ):
        raise InvalidArgumentError(argument, f"expected a sequence number >= 0, got {as_of!r}")


def check_listing(kind: Any, parent: Any, after: Any, as_of: Any, changed_after: Any) -> None:
    """The arguments of a store's ``list_records_page``, else ``InvalidArgumentError``
    naming the one that is wrong."""
    check_kind(kind)
    if parent is not None:
        check_id(parent, "parent")
    if after is not None:
        check_id(after, "after")
    check_sequence(as_of)
    check_sequence(changed_after, "changed_after")
