"""Writing a batch to the records store, the part every store shares: assigning versions
and sequences (``plan``) and the segment line format (``encode_line`` / ``decode_line``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from otelfeedback.errors import ConflictError, InvalidArgumentError, NotFoundError
from otelfeedback.store.records import Head, Record, RecordWrite, build_record, json_text


def plan(
    writes: Sequence[RecordWrite],
    heads: Mapping[tuple[str, str], Head],
    first_sequence: int,
    now_ms: int,
    author: str | None,
) -> list[Record]:
    """The records a checked batch appends, given the latest stored version of each record it
    touches (``heads``): versions and sequences in order, creation kept or restarted.

    Raises:
        ConflictError: a write's ``expected_version`` is not the stored one.
        NotFoundError: a deletion of a record that does not exist (or is deleted).
        InvalidArgumentError: a write moves a live record to another parent.
    """
    current = dict(heads)
    result = []
    for offset, write in enumerate(writes):
        key = (write.kind, write.id)
        head = current.get(key)
        actual = head.version if head else 0
        if write.expected_version is not None and write.expected_version != actual:
            raise ConflictError(write.kind, write.id, write.expected_version, actual)
        alive = head is not None and not head.deleted
        if write.deleted and not alive:
            raise NotFoundError(f"{write.kind} {write.id!r} does not exist")
        if alive and head is not None and not write.deleted and write.parent != head.parent:
            raise InvalidArgumentError(
                f"records[{offset}].parent",
                f"{write.kind} {write.id!r} belongs to {head.parent!r}, not {write.parent!r}",
            )
        created = (
            (head.created_time_ms, head.created_by)
            if alive and head is not None
            else (now_ms, author)
        )
        record = build_record(
            write.kind,
            write.id,
            actual + 1,
            first_sequence + offset,
            {} if write.deleted else write.data,
            head.parent if write.deleted and head is not None else write.parent,
            write.deleted,
            created[0],
            created[1],
            now_ms,
            author,
        )
        current[key] = Head(
            record.version, record.deleted, record.parent, created[0], created[1], record.sequence
        )
        result.append(record)
    return result


# -- the line format ----------------------------------------------------------------------------
def encode_line(records: Sequence[Record], data_texts: Sequence[str]) -> bytes:
    """One segment line for a batch: ``{"records":[{...record...}, ...]}`` and a newline.
    ``data_texts`` are the records' ``json_text(data)``, spliced in as they are; kinds and ids
    need no escaping (their patterns), authors are encoded once each."""
    names: dict[str | None, str] = {}

    def name(value: str | None) -> str:
        text = names.get(value)
        if text is None:
            text = names[value] = json_text(value)
        return text

    entries = [
        f'{{"kind":"{r.kind}","id":"{r.id}","version":{r.version},"sequence":{r.sequence},'
        f'"parent":{name(r.parent)},"deleted":{"true" if r.deleted else "false"},'
        f'"created_time_ms":{r.created_time_ms},"created_by":{name(r.created_by)},'
        f'"updated_time_ms":{r.updated_time_ms},"updated_by":{name(r.updated_by)},'
        f'"data":{text}}}'
        for r, text in zip(records, data_texts)
    ]
    return ('{"records":[' + ",".join(entries) + "]}\n").encode("utf-8")


def decode_line(raw: bytes) -> list[Record]:
    """The records of one segment line.

    Raises:
        ValueError: the line is not a batch of valid records (the caller skips it).
    """
    entry = json.loads(raw)
    if not isinstance(entry, dict) or not isinstance(entry.get("records"), list):
        raise ValueError('expected {"records": [...]}')
    records = [Record.from_dict(item) for item in entry["records"]]
    if not records:
        raise ValueError("an empty batch")
    return records
