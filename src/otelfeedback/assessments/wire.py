"""Assessment records on the wire (docs/assessments.md, "On the wire").

A *record* is one operation on one assessment: ``create`` (with ``overrides`` for an override),
``update`` (the fields present replace the old ones) or ``delete``. ``record_attributes``
gives our complete record under ``otelfeedback.assessment.*``; ``annotation_attributes`` the
OpenInference annotation a carrier span also carries; ``evaluation_event_attributes`` the OTel
``gen_ai.evaluation.result`` event. ``decode_record`` reads a record back from the attributes
of a carrier span or a span event, whoever wrote them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from otelfeedback import semconv as sc
from otelfeedback._internal.otlp_json.values import INT64_MAX, INT64_MIN, safe_json
from otelfeedback.assessments.schema import FIELDS

Operation = Literal["create", "update", "delete"]
_OPERATIONS = ("create", "update", "delete")

_ANNOTATOR_KIND = {"HUMAN": "HUMAN", "LLM_JUDGE": "LLM", "CODE": "CODE"}


@dataclass
class AssessmentRecord:
    """One operation on one assessment, as logged.

    ``fields`` holds the assessment fields the record carries (``assessment_id``,
    ``trace_id``, ``name``, ``kind``, ``value``, ``rationale``, ``source_type``,
    ``source_id``, ``metadata``, ``error``, ``span_id``, ``create_time_ms``,
    ``last_update_time_ms``, ``overrides``); an update carries only what changes.
    ``time_ns`` orders records; ``key`` is unique per record (carrier span id or event).
    """

    operation: Operation
    fields: dict[str, Any]
    time_ns: int = 0
    key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def assessment_id(self) -> str:
        return str(self.fields["assessment_id"])

    @property
    def trace_id(self) -> str:
        return str(self.fields["trace_id"])


def record_attributes(record: AssessmentRecord) -> dict[str, Any]:
    """Our complete record under ``otelfeedback.assessment.*`` (OTel attribute values)."""
    attributes: dict[str, Any] = {sc.ASSESSMENT_OPERATION: record.operation}
    if record.time_ns:
        attributes[sc.ASSESSMENT_TIME_UNIX_NANO] = record.time_ns
    for f in FIELDS:
        if f.name not in record.fields:
            continue
        value = record.fields[f.name]
        if f.encoding == "json":
            attributes[f.wire_key] = json.dumps(value, ensure_ascii=False)
        elif value is not None:
            attributes[f.wire_key] = value
    return attributes


def _score_and_label(value: Any) -> tuple[float | None, str | None]:
    if isinstance(value, bool):
        return (1.0 if value else 0.0), ("true" if value else "false")
    if isinstance(value, (int, float)):
        return float(value), None
    if isinstance(value, str):
        return None, value[:1000]
    if value is None:
        return None, None
    return None, json.dumps(value, ensure_ascii=False)[:1000]


def annotation(fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenInference / Phoenix annotation of an assessment (its record ``fields``):
    ``name``, ``score`` (numbers; booleans as 1/0), ``label`` (strings; booleans as
    ``"true"``/``"false"``; lists and objects as JSON), ``explanation`` (the rationale),
    ``annotator_kind`` (``HUMAN``, ``LLM``, ``CODE``), ``identifier`` (the assessment id, so an
    update upserts) and ``metadata`` (a dict, with ``otelfeedback.kind`` and
    ``otelfeedback.source_id`` added). Keys without a value are left out."""
    score, label = _score_and_label(fields.get("value"))
    out: dict[str, Any] = {"name": fields["name"]}
    if score is not None:
        out["score"] = score
    if label is not None:
        out["label"] = label
    if fields.get("rationale"):
        out["explanation"] = fields["rationale"]
    if fields.get("source_type"):
        kind = str(fields["source_type"])
        out["annotator_kind"] = _ANNOTATOR_KIND.get(kind, kind)
    out["identifier"] = fields["assessment_id"]
    metadata = dict(fields.get("metadata") or {})
    metadata["otelfeedback.kind"] = fields.get("kind", "feedback")
    if fields.get("source_id"):
        metadata["otelfeedback.source_id"] = fields["source_id"]
    out["metadata"] = metadata
    if score is None and label is None and not fields.get("rationale"):
        # The convention wants one of score/label/explanation; say why there is none.
        error = fields.get("error") or {}
        out["explanation"] = str(error.get("error_message") or "no value")
    return out


def annotation_attributes(record: AssessmentRecord) -> dict[str, Any]:
    """The OpenInference annotation for a create/update record (empty for a delete).

    Span scope (``annotations.0.annotation.*``) when the record targets a span, trace scope
    (``trace.annotations.0.annotation.*``) otherwise; see ``annotation`` for the fields.
    """
    fields = record.fields
    if record.operation == "delete" or "name" not in fields:
        return {}
    prefix = sc.ANNOTATION_SPAN_PREFIX if fields.get("span_id") else sc.ANNOTATION_TRACE_PREFIX
    attributes = {prefix + key: value for key, value in annotation(fields).items()}
    attributes[prefix + "metadata"] = json.dumps(
        attributes[prefix + "metadata"], ensure_ascii=False
    )
    return attributes


def evaluation_event_attributes(record: AssessmentRecord) -> dict[str, Any] | None:
    """Attributes of the OTel ``gen_ai.evaluation.result`` event for a feedback create or
    update; None for expectations and deletes (they are not evaluation results)."""
    fields = record.fields
    if record.operation == "delete" or fields.get("kind") != "feedback" or "name" not in fields:
        return None
    score, label = _score_and_label(fields.get("value"))
    attributes: dict[str, Any] = {sc.GEN_AI_EVALUATION_NAME: fields["name"]}
    if score is not None:
        attributes[sc.GEN_AI_EVALUATION_SCORE_VALUE] = score
    if label is not None:
        attributes[sc.GEN_AI_EVALUATION_SCORE_LABEL] = label
    if fields.get("rationale"):
        attributes[sc.GEN_AI_EVALUATION_EXPLANATION] = fields["rationale"]
    error = fields.get("error")
    if isinstance(error, dict) and error.get("error_code"):
        attributes[sc.ERROR_TYPE] = error["error_code"]
    return attributes


def is_record(attributes: dict[str, Any]) -> bool:
    """Whether these span or event attributes hold one of our assessment records."""
    return sc.ASSESSMENT_ID in attributes and sc.ASSESSMENT_OPERATION in attributes


def _int64(raw: Any, key: str) -> int:
    """An integer field (a time in ms), clamped to 64 bits (what an index stores).

    Raises:
        ValueError: not an integer.
    """
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{key}: expected an integer, got {str(raw)[:40]!r}") from None
    return max(INT64_MIN, min(INT64_MAX, value))


def decode_record(attributes: dict[str, Any], time_ns: int, key: str) -> AssessmentRecord:
    """Read a record back from decoded attributes. Its time is the one the record carries
    (``otelfeedback.assessment.time_unix_nano``); ``time_ns`` (the carrier's start or the
    event's time) stands in for records written before it existed.

    Raises:
        ValueError: the attributes are not a well-formed record.
    """
    operation = attributes.get(sc.ASSESSMENT_OPERATION)
    if operation not in _OPERATIONS:
        raise ValueError(f"unknown assessment operation {operation!r}")
    fields: dict[str, Any] = {}
    for f in FIELDS:
        if f.wire_key not in attributes:
            continue
        raw = attributes[f.wire_key]
        if f.encoding == "json":
            # JSON text may escape what an index cannot store (a lone surrogate).
            fields[f.name] = safe_json(json.loads(raw) if isinstance(raw, str) else raw)
        elif f.encoding == "int":
            fields[f.name] = _int64(raw, f.wire_key)
        else:
            fields[f.name] = raw
    for required in ("assessment_id", "trace_id"):
        if not isinstance(fields.get(required), str):
            raise ValueError(f"assessment record without {required}")
    if operation == "create" and not isinstance(fields.get("name"), str):
        raise ValueError("assessment create record without a name")
    recorded = attributes.get(sc.ASSESSMENT_TIME_UNIX_NANO)
    if recorded is not None:
        time_ns = int(recorded)
    return AssessmentRecord(operation, fields, time_ns, key)
