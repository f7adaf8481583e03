"""What ``merge_records`` accepts, turned into checked incoming records.

Accepted: a list (or any iterable) of dicts and ``Trace`` objects, a pandas DataFrame of
records (columns ``inputs``, ``outputs``, ``expectations``, ``tags``, ``source``; the lineage
columns of ``Dataset.to_pandas()`` are ignored), or a ``search_traces(return_type="pandas")``
frame. Errors name the record by its position and the field: ``records[3].inputs``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from otelfeedback.datasets.entities import SOURCE_TYPES
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.store.entities import Trace
from otelfeedback.store.record_checks import check_json, check_object

FIELDS = ("inputs", "outputs", "expectations", "tags", "source")
#: Who made a record and when (milliseconds and names): exported, shown and imported.
AUTHORSHIP = ("created_time", "created_by", "last_update_time", "last_updated_by")
#: Columns of ``Dataset.to_pandas()`` and fields of an export line that are not content.
LINEAGE = (
    "record_id",
    "dataset_record_id",
    "source_type",
    "source_id",
    *AUTHORSHIP,
    "added_in",
    "changed_in",
)
_ABSENT: Any = object()


@dataclass
class Incoming:
    """One record to merge, checked. ``outputs`` is absent (``has_outputs``) when not given;
    ``where`` names it in errors (``records[3]``, ``line 3``)."""

    where: str
    record_id: str
    inputs: dict[str, Any]
    outputs: Any = _ABSENT
    expectations: dict[str, Any] | None = None
    tags: dict[str, str] | None = None
    source: dict[str, Any] | None = None
    lineage: dict[str, Any] | None = None  # created_*/last_update* kept by import_jsonl

    @property
    def has_outputs(self) -> bool:
        return self.outputs is not _ABSENT


def record_id_of(inputs: dict[str, Any]) -> str:
    """The record id of these inputs: ``r-`` and the first 32 hex characters of the SHA-256
    of their canonical JSON (keys sorted, compact separators, ASCII escapes). Stable across
    processes and versions; ``{"n": 1}`` and ``{"n": 1.0}`` are different inputs."""
    canonical = json.dumps(
        inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return "r-" + hashlib.sha256(canonical.encode("ascii")).hexdigest()[:32]


def normalize(records: Any, load_trace: Callable[[str], Trace] | None = None) -> list[Incoming]:
    """Check and convert what ``merge_records`` was given.

    Args:
        records: see the module docstring.
        load_trace: loads a trace by id, for traces given without their spans.

    Raises:
        InvalidArgumentError: naming ``records`` or ``records[i].field``.
    """
    items = _items(records)
    result = []
    for index, item in enumerate(items):
        if isinstance(item, Trace):
            result.append(_from_trace(f"records[{index}]", item, load_trace))
        elif isinstance(item, Mapping):
            result.append(from_dict(f"records[{index}]", item))
        else:
            raise InvalidArgumentError(
                f"records[{index}]",
                f"expected a dict with inputs or a Trace, got {type(item).__name__}",
            )
    return result


def _items(records: Any) -> list[Any]:
    if _is_frame(records):
        columns = [str(c) for c in records.columns]
        if "trace" in columns and "inputs" not in columns:
            return [Trace.from_dict(json.loads(text)) for text in records["trace"]]
        return [_clean_row(row) for row in records.to_dict(orient="records")]
    if isinstance(records, (str, bytes, Mapping, Trace)) or not isinstance(records, Iterable):
        raise InvalidArgumentError(
            "records",
            "expected a list of dicts or Traces, or a DataFrame, got "
            f"{type(records).__name__} (wrap a single record in a list)",
        )
    items = list(records)
    if not items:
        raise InvalidArgumentError("records", "expected at least one record")
    return items


def _is_frame(value: Any) -> bool:
    return hasattr(value, "columns") and hasattr(value, "to_dict") and hasattr(value, "iloc")


def _clean_row(row: dict[Any, Any]) -> dict[str, Any]:
    """A DataFrame row: missing cells (NaN, None) dropped, numpy scalars as Python values."""
    clean = {}
    for key, cell in row.items():
        if cell is None or (isinstance(cell, float) and math.isnan(cell)):
            continue
        numpy_scalar = type(cell).__module__ == "numpy" and hasattr(cell, "item")
        clean[str(key)] = cell.item() if numpy_scalar else cell
    return clean


def from_dict(where: str, item: Mapping[str, Any], *, keep_lineage: bool = False) -> Incoming:
    """One record given as a dict, named ``where`` in errors (``keep_lineage``: also take
    its created/updated fields, as ``import_jsonl`` does)."""
    for key in item:
        if key not in FIELDS and key not in LINEAGE:
            raise InvalidArgumentError(
                f"{where}.{key}", f"unknown field; expected some of {', '.join(FIELDS)}"
            )
    if "inputs" not in item or item["inputs"] is None:
        raise InvalidArgumentError(f"{where}.inputs", "required: a JSON object")
    inputs = check_object(item["inputs"], f"{where}.inputs")
    if not inputs:
        raise InvalidArgumentError(f"{where}.inputs", "must not be empty")
    incoming = Incoming(where, record_id_of(inputs), inputs)
    if item.get("outputs") is not None:
        check_json(item["outputs"], f"{where}.outputs")
        incoming.outputs = item["outputs"]
    if item.get("expectations") is not None:
        incoming.expectations = check_object(item["expectations"], f"{where}.expectations")
    if item.get("tags") is not None:
        incoming.tags = _tags(item["tags"], f"{where}.tags")
    source = item.get("source")
    if source is None and item.get("source_type") is not None:
        source = {"source_type": item["source_type"], "source_id": item.get("source_id")}
    if source is not None:
        incoming.source = check_source(source, f"{where}.source")
    if keep_lineage:
        incoming.lineage = _lineage(item, where)
    return incoming


def check_source(source: Any, where: str) -> dict[str, Any]:
    """``{"source_type": one of SOURCE_TYPES, "source_id": str | None}``."""
    if not isinstance(source, Mapping):
        raise InvalidArgumentError(where, "expected an object {source_type, source_id}")
    unknown = set(source) - {"source_type", "source_id"}
    if unknown:
        raise InvalidArgumentError(f"{where}.{sorted(unknown)[0]}", "unknown field")
    source_type = str(source.get("source_type") or "").upper()
    if source_type not in SOURCE_TYPES:
        raise InvalidArgumentError(
            f"{where}.source_type",
            f"expected one of {', '.join(SOURCE_TYPES)}, got {source.get('source_type')!r}",
        )
    source_id = source.get("source_id")
    if source_id is not None and not isinstance(source_id, str):
        raise InvalidArgumentError(f"{where}.source_id", "expected a string or null")
    check_json(source_id, f"{where}.source_id")
    return {"source_type": source_type, "source_id": source_id}


def _tags(tags: Any, where: str) -> dict[str, str]:
    check_object(tags, where)
    for key, value in tags.items():
        if not isinstance(value, str):
            raise InvalidArgumentError(
                f"{where}.{key}", f"tag values are strings, got {type(value).__name__}"
            )
    return dict(tags)


def _lineage(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    lineage: dict[str, Any] = {}
    for key in ("created_time", "last_update_time"):
        value = item.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
                raise InvalidArgumentError(f"{where}.{key}", "expected milliseconds (an int)")
            lineage[key] = value
    for key in ("created_by", "last_updated_by"):
        value = item.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise InvalidArgumentError(f"{where}.{key}", "expected a string or null")
            lineage[key] = value
    return lineage


# -- traces -------------------------------------------------------------------------------------
def _from_trace(where: str, trace: Trace, load_trace: Callable[[str], Trace] | None) -> Incoming:
    root = trace.root_span
    if root is None and load_trace is not None:
        trace = load_trace(trace.trace_id)  # given without its spans (include_spans=False)
        root = trace.root_span
    if root is None:
        raise InvalidArgumentError(
            f"{where}.inputs", f"trace {trace.trace_id} has no root span to take inputs from"
        )
    inputs = _finite(root.inputs)
    if not isinstance(inputs, dict) or not inputs:
        raise InvalidArgumentError(
            f"{where}.inputs",
            f"the root span of trace {trace.trace_id} has inputs of type "
            f"{type(inputs).__name__}; a dataset record needs a non-empty JSON object",
        )
    check_json(inputs, f"{where}.inputs")
    incoming = Incoming(where, record_id_of(inputs), inputs)
    outputs = _finite(root.outputs)
    if outputs is not None:
        check_json(outputs, f"{where}.outputs")
        incoming.outputs = outputs
    valid = sorted(
        (a for a in trace.info.assessments if a.kind == "expectation" and a.valid),
        key=lambda a: (a.last_update_time_ms or 0, a.assessment_id),
    )
    if valid:
        incoming.expectations = {a.name: _finite(a.value) for a in valid}
        check_json(incoming.expectations, f"{where}.expectations")
    incoming.source = {"source_type": "TRACE", "source_id": trace.trace_id}
    return incoming


def _finite(value: Any) -> Any:
    """A trace's value with NaN and ±Infinity as the strings OTLP/JSON uses for them
    (``"NaN"``, ``"Infinity"``, ``"-Infinity"``): traces may hold them, records may not."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
