"""Evaluation runs in the records store.

A run is an ``evaluation_run`` record (id = the run id): its name, status, times, data source
(and dataset name, id and version), ``predict_fn``'s name, the scorers with their judge models
and prompt hashes, the metrics and the error counts. It is written when the run starts
(``running``) and again when it ends (``finished``, or ``failed`` if ``evaluate`` was
interrupted). Each row is an ``evaluation_row`` record under the run (id ``<run id>.<index>``):
its trace, a preview of its inputs, outputs and expectations, and its results as they were
recorded. The results themselves are assessments on the row's trace, like any feedback; the
row records keep the run's own view, so a run stays comparable after people edit feedback.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from otelfeedback._internal.serialization import to_json, truncate
from otelfeedback.assessments.entities import Feedback
from otelfeedback.errors import InvalidArgumentError, NotFoundError
from otelfeedback.store.base import TraceStore
from otelfeedback.store.record_checks import check_id, check_json
from otelfeedback.store.records import Record, RecordWrite

RUN = "evaluation_run"
ROW = "evaluation_row"
#: Longest text kept for one of a row's inputs / outputs / expectations in its record.
PREVIEW_CHARS = 4000


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data a record can hold (``to_json``'s forms for the rest)."""
    return json.loads(to_json(value))


def preview(value: Any) -> Any:
    """A value as record-safe JSON (non-finite numbers and other oddities as text); a long
    value becomes its cut JSON text (its trace keeps the whole)."""
    if isinstance(value, str):
        return truncate(value, PREVIEW_CHARS)[0]
    text = to_json(value)
    if len(text) > PREVIEW_CHARS:
        return truncate(text, PREVIEW_CHARS)[0]
    data = json.loads(text)
    try:
        check_json(data, "value")
    except InvalidArgumentError:  # nested too deep for a record: keep its text
        return text
    return data


def inputs_key(inputs: Any) -> str:
    """Rows of two runs with the same inputs compare with each other: SHA-256 (16 hex) of
    the canonical JSON of the inputs."""
    canonical = json.dumps(
        json.loads(to_json(inputs)), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]


def result_dict(feedback: Feedback) -> dict[str, Any]:
    """How a row record keeps one result."""
    return {
        "name": feedback.name,
        "value": preview(feedback.value),
        "rationale": feedback.rationale,
        "error": (
            {"error_code": feedback.error.error_code, "error_message": feedback.error.error_message}
            if feedback.error
            else None
        ),
        "span_id": feedback.span_id,
        "assessment_id": feedback.assessment_id,
        "source": feedback.source.to_dict(),
        "metadata": preview(feedback.metadata or {}),
    }


@dataclass(frozen=True)
class EvaluationRun:
    """An evaluation run as stored (see the module docstring); ``to_dict()`` is its JSON."""

    run_id: str
    name: str
    status: str
    created_time_ms: int
    finished_time_ms: int | None
    data_source: dict[str, Any]
    predict_fn: str | None
    scorers: list[dict[str, Any]]
    metrics: dict[str, float]
    errors: dict[str, int]
    row_count: int
    passed_count: int | None

    @classmethod
    def from_record(cls, record: Record) -> EvaluationRun:
        data = record.data
        return cls(
            run_id=record.id,
            name=str(data.get("name") or record.id),
            status=str(data.get("status") or "running"),
            created_time_ms=int(data.get("created_time_ms") or record.created_time_ms),
            finished_time_ms=data.get("finished_time_ms"),
            data_source=dict(data.get("data_source") or {}),
            predict_fn=data.get("predict_fn"),
            scorers=list(data.get("scorers") or []),
            metrics=dict(data.get("metrics") or {}),
            errors=dict(data.get("errors") or {}),
            row_count=int(data.get("row_count") or 0),
            passed_count=data.get("passed_count"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "name": self.name,
            "status": self.status,
            "created_time_ms": self.created_time_ms,
            "finished_time_ms": self.finished_time_ms,
            "data_source": self.data_source,
            "predict_fn": self.predict_fn,
            "scorers": self.scorers,
            "metrics": self.metrics,
            "errors": self.errors,
            "row_count": self.row_count,
            "passed_count": self.passed_count,
        }

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass(frozen=True)
class RunRow:
    """One row of a stored run."""

    index: int
    trace_id: str | None
    key: str
    inputs: Any
    outputs: Any
    expectations: Any
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    passed: bool = True
    dataset_record_id: str | None = None

    @classmethod
    def from_record(cls, record: Record) -> RunRow:
        d = record.data
        return cls(
            index=int(d.get("index", 0)),
            trace_id=d.get("trace_id"),
            key=str(d.get("key") or ""),
            inputs=d.get("inputs"),
            outputs=d.get("outputs"),
            expectations=d.get("expectations"),
            results=list(d.get("results") or []),
            error=d.get("error"),
            passed=bool(d.get("passed", True)),
            dataset_record_id=d.get("dataset_record_id"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "trace_id": self.trace_id,
            "key": self.key,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "expectations": self.expectations,
            "results": self.results,
            "error": self.error,
            "passed": self.passed,
            "dataset_record_id": self.dataset_record_id,
        }


def row_id(run_id: str, index: int) -> str:
    return f"{run_id}.{index:06d}"


def write_run(store: TraceStore, run_id: str, data: dict[str, Any], rows: list[RunRow]) -> None:
    """Append the run record (and its rows) as one batch."""
    writes = [RecordWrite(RUN, run_id, data)]
    writes += [RecordWrite(ROW, row_id(run_id, r.index), r.to_dict(), parent=run_id) for r in rows]
    store.append_records(writes)


def get_run(store: TraceStore, run_id: str) -> EvaluationRun:
    """A stored run.

    Raises:
        InvalidArgumentError: a malformed id.
        NotFoundError: no such run.
    """
    check_id(run_id, "run_id")
    try:
        return EvaluationRun.from_record(store.get_record(RUN, run_id))
    except NotFoundError:
        raise NotFoundError(f"evaluation run {run_id!r} not found in {store.path}") from None


def list_runs(store: TraceStore) -> list[EvaluationRun]:
    """Every run, newest first."""
    runs = [EvaluationRun.from_record(r) for r in store.list_records(RUN)]
    return sorted(runs, key=lambda r: (r.created_time_ms, r.run_id), reverse=True)


def run_rows(store: TraceStore, run_id: str) -> list[RunRow]:
    """A run's rows in order (``get_run`` first for a clear error on an unknown run)."""
    rows = [RunRow.from_record(r) for r in store.list_records(ROW, parent=run_id)]
    return sorted(rows, key=lambda r: r.index)


def check_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str):
        raise InvalidArgumentError("run_id", f"expected a string, got {type(run_id).__name__}")
    return check_id(run_id, "run_id")
