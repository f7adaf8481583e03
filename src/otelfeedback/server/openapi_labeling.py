"""The OpenAPI paths and schemas of the labeling API (``api_labeling.py``), merged into the
document of ``openapi.py``."""

from __future__ import annotations

from typing import Any

from otelfeedback.server.openapi_records import _body, _path, _q, _ref

NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
SESSION = _path("session", "^.+$") | {"description": "the session's id (lss-...) or name"}
ERRORS = {
    "400": _body("Error", "Bad input (the message names the argument and says why)"),
    "404": _body("Error", "No such label schema, labeling session or item"),
}


def _json_body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _op(
    summary: str,
    ok: str,
    *,
    status: str = "200",
    body: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
    description: str = "",
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {status: _body(ok), **ERRORS}}
    if description:
        op["description"] = description
    if body:
        op["requestBody"] = _json_body(body)
    if parameters:
        op["parameters"] = parameters
    return op


_S = "/api/labeling/sessions/{session}"
PATHS: dict[str, Any] = {
    "/api/labeling/schemas": {
        "get": _op("Every label schema, by name", "LabelSchemaList"),
        "post": _op(
            "Create a label schema (overwrite: replace one of the same name)",
            "LabelSchema",
            status="201",
            body="LabelSchemaCreate",
        ),
    },
    "/api/labeling/schemas/{name}": {
        "get": _op("One label schema", "LabelSchema", parameters=[NAME]),
        "delete": _op(
            "Delete a label schema (refused while a session asks it)",
            "Deleted",
            parameters=[NAME],
        ),
    },
    "/api/labeling/sessions": {
        "get": _op("Every labeling session with its progress, newest first", "SessionList"),
        "post": _op("Create a labeling session", "Session", status="201", body="SessionCreate"),
    },
    _S: {
        "get": _op("One labeling session with its progress", "Session", parameters=[SESSION]),
        "delete": _op(
            "Delete a labeling session (its labels stay on the traces)",
            "Deleted",
            parameters=[SESSION],
        ),
    },
    _S + "/traces": {
        "post": _op(
            "Add traces (by id, or all matching a filter); traces already in it stay as they are",
            "TracesAdded",
            body="TracesToAdd",
            parameters=[SESSION],
        )
    },
    _S + "/traces/remove": {
        "post": _op(
            "Take traces out of the session", "TracesRemoved", body="TraceIds", parameters=[SESSION]
        )
    },
    _S + "/items": {
        "get": _op(
            "The session's items in order, with each reviewer's review",
            "ItemPage",
            parameters=[
                SESSION,
                _q("offset", {"type": "integer", "minimum": 1}, "first item (1-based)"),
                _q("limit", {"type": "integer", "maximum": 5000}, "items per page (1000)"),
            ],
        )
    },
    _S + "/progress": {
        "get": _op(
            "Items done, in progress, pending; per reviewer", "Progress", parameters=[SESSION]
        )
    },
    _S + "/agreement": {
        "get": _op(
            "Agreement per schema: percent agreement, Krippendorff's alpha, Fleiss' kappa, "
            "and the items where reviewers disagree",
            "Agreement",
            parameters=[SESSION],
        )
    },
    _S + "/links": {
        "post": _op(
            "A signed review link (for one reviewer, or the session's shared link)",
            "ReviewLink",
            status="201",
            body="ReviewLinkRequest",
            parameters=[SESSION],
        )
    },
    _S + "/labels": {
        "post": _op(
            "Record a reviewer's labels on an item (as the review app does)",
            "Review",
            status="201",
            body="LabelsSubmission",
            parameters=[SESSION],
            description="Each answer becomes an assessment (source HUMAN / reviewer); "
            "labeling again updates them, keeping history.",
        )
    },
    "/api/labeling/link-secret/rotate": {
        "post": _op(
            "Rotate the review-link secret: every link given out stops working", "SecretRotated"
        )
    },
}

_INPUT = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["categorical", "categorical_list", "text", "text_list", "numeric"]},
        "options": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "max_length": {"type": ["integer", "null"], "minimum": 1},
        "max_length_each": {"type": ["integer", "null"], "minimum": 1},
        "max_count": {"type": ["integer", "null"], "minimum": 1},
        "min_value": {"type": ["number", "null"]},
        "max_value": {"type": ["number", "null"]},
    },
}
_STR_LIST = {"type": "array", "items": {"type": "string"}}
_REVIEW = {
    "type": "object",
    "properties": {
        "reviewer": {"type": "string"},
        "state": {"enum": ["done", "skipped"]},
        "labels": {"type": "object"},
        "comments": {"type": "object"},
        "time_ms": {"type": "integer"},
        "version": {"type": "integer"},
    },
}
_PROGRESS = {
    "type": "object",
    "properties": {
        "total": {"type": "integer"},
        "done": {"type": "integer"},
        "in_progress": {"type": "integer"},
        "pending": {"type": "integer"},
        "reviewers_per_item": {"type": "integer"},
        "reviewers": {"type": "object"},
    },
}
_SESSION = {
    "type": "object",
    "properties": {
        "labeling_session_id": {"type": "string"},
        "name": {"type": "string"},
        "label_schemas": _STR_LIST,
        "assigned_users": _STR_LIST,
        "instructions": {"type": ["string", "null"]},
        "reviewers_per_item": {"type": "integer"},
        "created_time_ms": {"type": "integer"},
        "progress": _ref("Progress"),
    },
}
_SCHEMA_FIELDS = {
    "name": {"type": "string", "maxLength": 250},
    "type": {"enum": ["feedback", "expectation"]},
    "title": {"type": "string"},
    "input": _ref("LabelInput"),
    "instruction": {"type": ["string", "null"]},
    "enable_comment": {"type": "boolean"},
}

SCHEMAS: dict[str, Any] = {
    "LabelInput": _INPUT,
    "LabelSchema": {
        "type": "object",
        "properties": {**_SCHEMA_FIELDS, "schema_id": {"type": "string"}},
    },
    "LabelSchemaCreate": {
        "type": "object",
        "required": ["name", "title", "input"],
        "properties": {**_SCHEMA_FIELDS, "overwrite": {"type": "boolean"}},
    },
    "LabelSchemaList": {
        "type": "object",
        "properties": {"label_schemas": {"type": "array", "items": _ref("LabelSchema")}},
    },
    "Deleted": {"type": "object", "properties": {"deleted": {"type": "string"}}},
    "Progress": _PROGRESS,
    "Session": _SESSION,
    "SessionList": {
        "type": "object",
        "properties": {"labeling_sessions": {"type": "array", "items": _ref("Session")}},
    },
    "SessionCreate": {
        "type": "object",
        "required": ["name", "label_schemas"],
        "properties": {
            "name": {"type": "string"},
            "label_schemas": _STR_LIST,
            "assigned_users": _STR_LIST,
            "instructions": {"type": "string"},
            "reviewers_per_item": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    },
    "TraceIds": {
        "type": "object",
        "required": ["trace_ids"],
        "properties": {"trace_ids": _STR_LIST},
    },
    "TracesToAdd": {
        "type": "object",
        "description": "trace_ids, or a filter (every matching trace)",
        "properties": {"trace_ids": _STR_LIST, "filter": {"type": "string"}},
    },
    "TracesAdded": {
        "type": "object",
        "properties": {"added": {"type": "integer"}, "total": {"type": "integer"}},
    },
    "TracesRemoved": {"type": "object", "properties": {"removed": {"type": "integer"}}},
    "Review": _REVIEW,
    "Item": {
        "type": "object",
        "properties": {
            "trace_id": {"type": "string"},
            "position": {"type": "integer"},
            "state": {"enum": ["pending", "in_progress", "done"]},
            "reviews": {"type": "object", "additionalProperties": _ref("Review")},
        },
    },
    "ItemPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Item")},
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    },
    "Agreement": {
        "type": "object",
        "properties": {
            "labeling_session_id": {"type": "string"},
            "schemas": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "schema": {"type": "string"},
                        "level": {"enum": ["nominal", "interval", "text"]},
                        "items": {"type": "integer"},
                        "reviewers": {"type": "integer"},
                        "percent_agreement": {"type": ["number", "null"]},
                        "krippendorff_alpha": {"type": ["number", "null"]},
                        "fleiss_kappa": {"type": ["number", "null"]},
                        "disagreements": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    },
    "ReviewLinkRequest": {
        "type": "object",
        "properties": {
            "reviewer": {"type": "string", "description": "omit for the shared link"},
            "expires_in_seconds": {"type": "number", "exclusiveMinimum": 0},
        },
    },
    "ReviewLink": {
        "type": "object",
        "properties": {
            "url": {"type": "string"},
            "reviewer": {"type": ["string", "null"]},
            "expires_time_ms": {"type": "integer"},
        },
    },
    "LabelsSubmission": {
        "type": "object",
        "required": ["trace_id", "reviewer", "labels"],
        "properties": {
            "trace_id": {"type": "string"},
            "reviewer": {"type": "string"},
            "labels": {"type": "object", "description": "schema name -> answer"},
            "comments": {"type": "object", "description": "schema name -> comment"},
        },
    },
    "SecretRotated": {"type": "object", "properties": {"key_version": {"type": "integer"}}},
}
