"""The JSONL form of a dataset version: one record a line, so datasets live in git and move
between stores.

Each line is a JSON object with, in this order: ``record_id`` (informational: recomputed from
the inputs on import), ``inputs``, ``outputs`` (null when absent), ``expectations``, ``tags``,
``source`` (``{"source_type", "source_id"}``), ``created_time``, ``created_by``,
``last_update_time``, ``last_updated_by`` (milliseconds and names). Lines are UTF-8; a value
holding a lone surrogate is written with ``\\uXXXX`` escapes. Records come in the dataset's
order. Blank lines are ignored on import. Store-specific fields (the versions that added and
changed a record) are not exported: an import makes a new version of the target dataset.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from otelfeedback.datasets.entities import DatasetRecord
from otelfeedback.datasets.normalize import AUTHORSHIP, FIELDS, Incoming, from_dict
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.store.records import json_text

#: What an export line holds: the record id, the content and who made it (not the
#: store-specific versions that added and changed it).
EXPORTED = ("record_id", *FIELDS, *AUTHORSHIP)


def export_line(record: DatasetRecord) -> str:
    data = record.to_dict()
    return json_text({name: data[name] for name in EXPORTED}) + "\n"


def write_jsonl(path: str | Path, records: Sequence[DatasetRecord]) -> int:
    """Write the records, one a line (through a temporary file, then renamed into place, so
    a failed export never leaves half a file under the name).

    Raises:
        InvalidArgumentError: the file cannot be written.
    """
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as handle:
            for record in records:
                handle.write(export_line(record))
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidArgumentError("path", f"cannot write {target}: {exc.strerror}") from None
    return len(records)


def read_jsonl(path: str | Path) -> list[Incoming]:
    """The records of a JSONL file, checked (errors name ``line N`` and the field).

    Raises:
        InvalidArgumentError: the file cannot be read, a line is not a JSON object or a
            record is invalid; nothing is merged.
    """
    source = Path(path)
    try:
        raw_lines = source.read_bytes().splitlines()
    except OSError as exc:
        raise InvalidArgumentError("path", f"cannot read {source}: {exc.strerror}") from None
    result = []
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        where = f"line {number}"
        try:
            item = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise InvalidArgumentError(where, f"not JSON: {exc}"[:200]) from None
        if not isinstance(item, dict):
            raise InvalidArgumentError(where, "expected a JSON object (one record a line)")
        incoming = from_dict(where, item, keep_lineage=True)
        if incoming.source is None:
            incoming.source = {"source_type": "FILE", "source_id": source.name}
        result.append(incoming)
    if not result:
        raise InvalidArgumentError("path", f"{source} holds no records")
    return result
