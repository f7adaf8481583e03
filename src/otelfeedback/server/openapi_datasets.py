"""The OpenAPI paths and schemas of the datasets API (``api_datasets.py``), merged into the
document of ``openapi.py``."""

from __future__ import annotations

from typing import Any

from otelfeedback.server.openapi_records import ERRORS, _body, _q, _ref

REF = {
    "name": "ref",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "the dataset's name or id (d-...)",
}
VERSION = _q("version", {"type": "integer", "minimum": 0}, "a version (default: the latest)")


def _json_body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


PATHS: dict[str, Any] = {
    "/api/datasets": {
        "get": {
            "summary": "Every dataset at its latest version, by name",
            "responses": {"200": _body("DatasetList")},
        },
        "post": {
            "summary": "Create an empty dataset (version 0); 400 if the name is taken",
            "requestBody": _json_body("NewDataset"),
            "responses": {"201": _body("Dataset", "Created"), **ERRORS},
        },
    },
    "/api/datasets/{ref}": {
        "get": {
            "summary": "A dataset at a version",
            "parameters": [REF, VERSION],
            "responses": {"200": _body("Dataset"), **ERRORS},
        },
        "delete": {
            "summary": "Delete a dataset (its history stays in the store; the name is free)",
            "parameters": [REF],
            "responses": {"204": {"description": "Deleted"}, **ERRORS},
        },
    },
    "/api/datasets/{ref}/records": {
        "get": {
            "summary": "One page of the records of a version, in the dataset's order",
            "parameters": [
                REF,
                VERSION,
                _q("offset", {"type": "integer", "minimum": 0}, "records to skip"),
                _q("limit", {"type": "integer", "maximum": 5000}, "page size (default 1000)"),
            ],
            "responses": {"200": _body("DatasetRecordPage"), **ERRORS},
        },
        "post": {
            "summary": "Merge records into the latest version: a new version (none if nothing "
            "changes). Upsert key: the hash of the canonical inputs JSON",
            "parameters": [REF],
            "requestBody": _json_body("RecordsToMerge"),
            "responses": {"200": _body("Dataset"), **ERRORS},
        },
    },
    "/api/datasets/{ref}/records/delete": {
        "post": {
            "summary": "Remove records from the latest version (a new version)",
            "parameters": [REF],
            "requestBody": _json_body("RecordIds"),
            "responses": {"200": _body("Deleted"), **ERRORS},
        }
    },
    "/api/datasets/{ref}/traces": {
        "post": {
            "summary": "Merge stored traces: inputs and outputs of the root span, valid "
            "expectations, source = the trace",
            "parameters": [REF],
            "requestBody": _json_body("TraceIds"),
            "responses": {"200": _body("Dataset"), **ERRORS},
        }
    },
    "/api/datasets/{ref}/versions": {
        "get": {
            "summary": "Every version: who, when, records added, changed and removed",
            "parameters": [REF],
            "responses": {"200": _body("DatasetVersions"), **ERRORS},
        }
    },
    "/api/datasets/{ref}/diff": {
        "get": {
            "summary": "What changed between two versions",
            "parameters": [
                REF,
                _q("from", {"type": "integer", "minimum": 0}, "default: the one before 'to'"),
                _q("to", {"type": "integer", "minimum": 0}, "default: the latest"),
            ],
            "responses": {"200": _body("DatasetDiff"), **ERRORS},
        }
    },
}

_RECORD = {
    "type": "object",
    "properties": {
        "record_id": {"type": "string", "pattern": "^r-[0-9a-f]{32}$"},
        "inputs": {"type": "object"},
        "outputs": {},
        "expectations": {"type": "object"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "source": {"$ref": "#/components/schemas/DatasetRecordSource"},
        "created_time": {"type": "integer"},
        "created_by": {"type": ["string", "null"]},
        "last_update_time": {"type": "integer"},
        "last_updated_by": {"type": ["string", "null"]},
        "added_in": {"type": "integer"},
        "changed_in": {"type": "integer"},
        "position": {"type": "integer"},
    },
}

SCHEMAS: dict[str, Any] = {
    "Dataset": {
        "type": "object",
        "properties": {
            "dataset_id": {"type": "string", "pattern": "^d-[0-9a-f]{32}$"},
            "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "tags": {"type": "object"},
            "version": {"type": "integer"},
            "latest_version": {"type": "integer"},
            "record_count": {"type": "integer"},
            "created_time": {"type": "integer"},
            "created_by": {"type": ["string", "null"]},
            "last_update_time": {"type": "integer"},
            "last_updated_by": {"type": ["string", "null"]},
            "schema": {
                "type": "object",
                "description": "one JSON type per inputs/expectations key",
            },
        },
    },
    "DatasetList": {
        "type": "object",
        "properties": {"datasets": {"type": "array", "items": _ref("Dataset")}},
    },
    "NewDataset": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "description": {"type": "string"},
        },
    },
    "DatasetRecordSource": {
        "type": "object",
        "properties": {
            "source_type": {
                "enum": [
                    "TRACE",
                    "LABELING_SESSION",
                    "FILE",
                    "HUMAN",
                    "CODE",
                    "DOCUMENT",
                    "UNSPECIFIED",
                ]
            },
            "source_id": {"type": ["string", "null"]},
        },
    },
    "DatasetRecord": _RECORD,
    "DatasetRecordPage": {
        "type": "object",
        "properties": {
            "dataset": _ref("Dataset"),
            "records": {"type": "array", "items": _ref("DatasetRecord")},
            "next_offset": {"type": ["integer", "null"]},
        },
    },
    "RecordsToMerge": {
        "type": "object",
        "required": ["records"],
        "properties": {
            "records": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["inputs"],
                    "properties": {
                        "inputs": {"type": "object", "minProperties": 1},
                        "outputs": {},
                        "expectations": {"type": "object"},
                        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                        "source": _ref("DatasetRecordSource"),
                    },
                },
            }
        },
    },
    "RecordIds": {
        "type": "object",
        "required": ["record_ids"],
        "properties": {"record_ids": {"type": "array", "items": {"type": "string"}}},
    },
    "TraceIds": {
        "type": "object",
        "required": ["trace_ids"],
        "properties": {"trace_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
    },
    "Deleted": {
        "type": "object",
        "properties": {"deleted": {"type": "integer"}, "dataset": _ref("Dataset")},
    },
    "DatasetVersions": {
        "type": "object",
        "properties": {
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "integer"},
                        "created_time": {"type": "integer"},
                        "created_by": {"type": ["string", "null"]},
                        "operation": {"enum": ["merge", "delete", "import"]},
                        "added": {"type": "integer"},
                        "changed": {"type": "integer"},
                        "removed": {"type": "integer"},
                        "record_count": {"type": "integer"},
                        "sources": {"type": "object"},
                    },
                },
            }
        },
    },
    "DatasetDiff": {
        "type": "object",
        "properties": {
            "dataset_id": {"type": "string"},
            "name": {"type": "string"},
            "from_version": {"type": "integer"},
            "to_version": {"type": "integer"},
            "added": {"type": "array", "items": _ref("DatasetRecord")},
            "removed": {"type": "array", "items": _ref("DatasetRecord")},
            "changed": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "fields": {"type": "array", "items": {"type": "string"}},
                        "old": _ref("DatasetRecord"),
                        "new": _ref("DatasetRecord"),
                    },
                },
            },
            "unchanged": {"type": "integer"},
        },
    },
}
