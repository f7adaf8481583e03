"""What ``evaluate(data=...)`` accepts, turned into checked rows.

- **traces**: a list of ``Trace`` (what ``search_traces`` returns) or a
  ``search_traces(return_type="pandas")`` frame: inputs and outputs from the root span,
  expectations from the trace's **valid** expectation assessments (the latest per name);
  an explicit ``expectations`` column wins;
- **rows**: a list of dicts or a DataFrame with ``inputs`` (a dict), optional ``outputs``,
  ``expectations`` (a dict) and ``tags`` (a dict);
- **a dataset**: any object with ``name``, ``version`` and ``records`` (each with
  ``inputs``, ``outputs``, ``expectations``, ``tags``), e.g. ``otelfeedback.datasets``'
  ``Dataset``; the run records its name, id and version.

Errors name the row (``data[3].inputs``) and are raised before anything runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.store.entities import Trace
from otelfeedback.store.record_checks import check_json

#: ``outputs`` when a row has none (None is a value an app may return).
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
ROW_FIELDS = ("inputs", "outputs", "expectations", "tags", "trace")
#: Fields of dataset exports and frames that describe a record's lineage, not its content.
IGNORED_FIELDS = frozenset(
    {
        "source",
        "source_type",
        "source_id",
        "record_id",
        "dataset_record_id",
        "created_time",
        "created_by",
        "last_update_time",
        "last_updated_by",
        "added_in",
        "changed_in",
        "position",
        "trace_id",
        "request_id",
    }
)


@runtime_checkable
class DatasetLike(Protocol):
    """What ``evaluate`` needs of a dataset (``otelfeedback.datasets.Dataset`` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def records(self) -> Sequence[Any]: ...


@dataclass
class Row:
    """One row to evaluate."""

    index: int
    inputs: Any
    outputs: Any = MISSING
    expectations: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    trace: Trace | None = None
    dataset_record_id: str | None = None

    @property
    def where(self) -> str:
        return f"data[{self.index}]"


@dataclass(frozen=True)
class Source:
    """Where the rows came from, as the run records it."""

    type: str  # "traces", "rows" or "dataset"
    rows: int
    dataset: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "rows": self.rows, "dataset": self.dataset}


def _is_frame(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "to_dict")


def load(data: Any) -> tuple[list[Row], Source]:
    """The rows of ``data`` and where they came from.

    Raises:
        InvalidArgumentError: empty data, or a malformed row (named ``data[i]...``).
    """
    if data is None or isinstance(data, (str, bytes, Mapping)):
        raise InvalidArgumentError(
            "data", f"expected traces, a list of dicts, a DataFrame or a dataset, got {data!r:.80}"
        )
    dataset = None
    if _is_frame(data):
        items: list[Any] = data.to_dict("records")
    elif isinstance(data, DatasetLike):
        dataset = {
            "id": getattr(data, "dataset_id", None),
            "name": str(data.name),
            "version": data.version,
            "url_path": getattr(data, "url_path", None),
        }
        items = [_record_row(r) for r in data.records]
    elif isinstance(data, Trace):
        items = [data]
    elif isinstance(data, Iterable):
        items = list(data)
    else:
        raise InvalidArgumentError("data", f"expected rows or traces, got {type(data).__name__}")
    if not items:
        raise InvalidArgumentError("data", "is empty: there is nothing to evaluate")
    rows = [_row(i, item) for i, item in enumerate(items)]
    kind = "dataset" if dataset else ("traces" if all(r.trace for r in rows) else "rows")
    return rows, Source(kind, len(rows), dataset)


def _record_row(record: Any) -> dict[str, Any]:
    row = {
        "inputs": getattr(record, "inputs", None),
        "expectations": getattr(record, "expectations", None) or {},
        "tags": getattr(record, "tags", None) or {},
        "dataset_record_id": getattr(record, "record_id", None),
    }
    outputs = getattr(record, "outputs", None)
    if outputs is not None:
        row["outputs"] = outputs
    return row


def _row(index: int, item: Any) -> Row:
    where = f"data[{index}]"
    if isinstance(item, Trace):
        return _trace_row(index, item, None)
    if not isinstance(item, Mapping):
        raise InvalidArgumentError(
            where, f"expected a Trace or a dict with 'inputs', got {type(item).__name__}"
        )
    fields = {k: v for k, v in item.items() if not _absent(v)}
    expectations = fields.get("expectations")
    if "trace" in fields:  # a search_traces frame: its other columns describe the trace
        trace = _as_trace(fields["trace"], where)
        return _trace_row(index, trace, expectations)
    unknown = sorted(set(fields) - set(ROW_FIELDS) - IGNORED_FIELDS - {"dataset_record_id"})
    if unknown:
        raise InvalidArgumentError(
            f"{where}.{unknown[0]}", f"unknown field; a row has {', '.join(ROW_FIELDS)}"
        )
    if "inputs" not in fields:
        raise InvalidArgumentError(f"{where}.inputs", "a row needs inputs (a dict)")
    row = Row(index, _dict(fields["inputs"], f"{where}.inputs"))
    if "outputs" in item:  # None is an output; only a missing key (or NaN cell) is not
        row.outputs = fields.get("outputs")
    row.expectations = _dict(expectations or {}, f"{where}.expectations")
    row.tags = _tags(fields.get("tags") or {}, f"{where}.tags")
    row.dataset_record_id = fields.get("dataset_record_id")
    return row


def _absent(value: Any) -> bool:
    """A missing DataFrame cell (NaN / None for a column other rows have)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_trace(value: Any, where: str) -> Trace:
    if isinstance(value, Trace):
        return value
    try:
        data = json.loads(value) if isinstance(value, (str, bytes)) else value
        return Trace.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidArgumentError(f"{where}.trace", f"not a trace: {exc}") from None


def _trace_row(index: int, trace: Trace, expectations: Any) -> Row:
    where = f"data[{index}]"
    root = trace.root_span
    if root is None:
        raise InvalidArgumentError(
            where,
            f"trace {trace.trace_id} has no root span loaded: search with include_spans=True",
        )
    if root.inputs is None:
        raise InvalidArgumentError(
            f"{where}.inputs", f"the root span of trace {trace.trace_id} recorded no inputs"
        )
    if expectations is None:
        latest: dict[str, tuple[int, Any]] = {}
        for a in trace.search_assessments(kind="expectation"):
            stamp = a.last_update_time_ms or 0
            if a.name not in latest or stamp >= latest[a.name][0]:
                latest[a.name] = (stamp, a.value)
        expectations = {name: value for name, (_, value) in latest.items()}
    return Row(
        index,
        root.inputs,
        root.outputs,
        _dict(expectations, f"{where}.expectations"),
        dict(trace.info.tags),
        trace,
    )


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidArgumentError(
            where, f"expected a dict with string keys, got {type(value).__name__}"
        )
    return dict(value)


def _tags(value: Any, where: str) -> dict[str, str]:
    tags = _dict(value, where)
    for key, tag in tags.items():
        if not isinstance(tag, str):
            tags[key] = json.dumps(tag, ensure_ascii=False)
    check_json(tags, where)
    return tags
