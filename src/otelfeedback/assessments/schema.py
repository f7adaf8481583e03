"""The assessment fields, declared once.

Everything that lists an assessment's fields is derived from ``FIELDS``: the entities'
``to_dict`` / ``assessment_from_dict``, the wire attributes of a record
(``otelfeedback.assessment.*``), the log resolution (which fields an update may change) and
the REST API's OpenAPI schema.

Two shapes: a *record* holds the fields flat (``source_type``, ``source_id``), as they travel;
the *dict form* (``to_dict()``, the REST API, ``Trace.to_dict()``) nests them under
``source`` and adds the derived ``valid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from otelfeedback import semconv as sc

Encoding = Literal["text", "json", "int"]


@dataclass(frozen=True)
class AssessmentField:
    """One field: its name, wire attribute, how its value travels, and its JSON schema."""

    name: str
    wire_key: str
    schema: dict[str, Any]
    doc: str
    #: ``text``: the attribute value as is; ``json``: a JSON document (any value);
    #: ``int``: an integer (milliseconds).
    encoding: Encoding = "text"
    #: An update record cannot change it.
    immutable: bool = False
    #: Nested under this key in the dict form (``source``).
    group: str | None = None
    default: Any = None


_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}

FIELDS: tuple[AssessmentField, ...] = (
    AssessmentField("assessment_id", sc.ASSESSMENT_ID, _STRING, "unique id", immutable=True),
    AssessmentField(
        "kind",
        sc.ASSESSMENT_KIND,
        {"enum": ["feedback", "expectation"]},
        "feedback (a judgement) or expectation (ground truth)",
        immutable=True,
        default="feedback",
    ),
    AssessmentField("name", sc.ASSESSMENT_NAME, _STRING, "what is assessed", default=""),
    AssessmentField("trace_id", sc.ASSESSMENT_TRACE_ID, _STRING, "the trace", immutable=True),
    AssessmentField(
        "span_id",
        sc.ASSESSMENT_SPAN_ID,
        _NULLABLE_STRING,
        "the span (None: the trace)",
        immutable=True,
    ),
    AssessmentField("value", sc.ASSESSMENT_VALUE, {}, "any JSON value", encoding="json"),
    AssessmentField("rationale", sc.ASSESSMENT_RATIONALE, _NULLABLE_STRING, "why"),
    AssessmentField(
        "source_type",
        sc.ASSESSMENT_SOURCE_TYPE,
        {"enum": ["HUMAN", "LLM_JUDGE", "CODE"]},
        "who: a human, an LLM judge or code",
        immutable=True,
        group="source",
        default="HUMAN",
    ),
    AssessmentField(
        "source_id",
        sc.ASSESSMENT_SOURCE_ID,
        _STRING,
        "which human, judge or scorer",
        immutable=True,
        group="source",
        default="default",
    ),
    AssessmentField(
        "metadata", sc.ASSESSMENT_METADATA, {"type": "object"}, "extra data", encoding="json"
    ),
    AssessmentField(
        "error",
        sc.ASSESSMENT_ERROR,
        {"type": ["object", "null"]},
        "why a feedback has no value (error_code, error_message, stack_trace)",
        encoding="json",
    ),
    AssessmentField(
        "create_time_ms",
        sc.ASSESSMENT_CREATE_TIME_MS,
        {"type": "integer"},
        "creation time (ms since the epoch)",
        encoding="int",
        immutable=True,
    ),
    AssessmentField(
        "last_update_time_ms",
        sc.ASSESSMENT_LAST_UPDATE_TIME_MS,
        {"type": "integer"},
        "last change (ms since the epoch)",
        encoding="int",
    ),
    AssessmentField(
        "overrides",
        sc.ASSESSMENT_OVERRIDES,
        _NULLABLE_STRING,
        "the assessment this one replaced",
        immutable=True,
    ),
)

#: Fields an update record cannot change.
IMMUTABLE = frozenset(f.name for f in FIELDS if f.immutable)


def to_dict_form(fields: Mapping[str, Any], *, valid: bool) -> dict[str, Any]:
    """The dict form of an assessment from its flat fields (missing ones get defaults)."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        value = fields.get(f.name, f.default)
        if f.group is not None:
            out.setdefault(f.group, {})[f.name] = value
        else:
            out[f.name] = value
    out["metadata"] = dict(out["metadata"] or {})
    if out["last_update_time_ms"] is None:
        out["last_update_time_ms"] = out["create_time_ms"]
    out["valid"] = valid
    return out


def to_record_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The flat fields of an assessment's dict form (``valid`` is not a field)."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        holder = data.get(f.group) or {} if f.group is not None else data
        out[f.name] = holder.get(f.name, f.default)
    return out


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI schema of an assessment's dict form."""
    properties: dict[str, Any] = {}
    for f in FIELDS:
        if f.group is not None:
            properties[f.group] = {"$ref": "#/components/schemas/Source"}
        else:
            properties[f.name] = {**f.schema, "description": f.doc}
    properties["valid"] = {"type": "boolean", "description": "False once overridden"}
    return {"type": "object", "properties": properties}


def source_schema() -> dict[str, Any]:
    """The OpenAPI schema of ``source``."""
    return {
        "type": "object",
        "properties": {
            f.name: {**f.schema, "description": f.doc} for f in FIELDS if f.group == "source"
        },
    }
