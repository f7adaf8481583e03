"""The OpenAPI paths and schemas of the records API (``api_records.py``), merged into the
document of ``openapi.py``."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(name: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _path(name: str, pattern: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": pattern},
    }


KIND = _path("kind", "^[a-z][a-z0-9_]{0,63}$")
RECORD_ID = _path("record_id", "^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
ERRORS = {
    "400": _body("Error", "Bad input (the message says which argument and why)"),
    "404": _body("Error", "No such record or version"),
}

PATHS: dict[str, Any] = {
    "/api/records": {
        "post": {
            "summary": "Append a batch of record versions, all or nothing",
            "description": "Versions and sequences are assigned by the server. A write with "
            "expected_version fails the whole batch with 409 unless the store holds that "
            "version (0: the record must not exist).",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("RecordBatch")}},
            },
            "responses": {
                "201": _body("RecordList", "Appended"),
                "409": _body("ConflictError", "A record is at another version"),
                "413": _body("Error", "Body larger than the server's limit"),
                "415": _body("Error", "Not application/json"),
                **ERRORS,
            },
        }
    },
    "/api/records/{kind}": {
        "get": {
            "summary": "The latest version of every record of a kind, by id, one page at a time",
            "parameters": [
                KIND,
                _q("parent", {"type": "string"}, "only records of this parent"),
                _q("as_of", {"type": "integer", "minimum": 0}, "as of this store sequence"),
                _q("include_deleted", {"type": "boolean"}, "also deleted records (tombstones)"),
                _q(
                    "changed_after",
                    {"type": "integer", "minimum": 0},
                    "only records whose latest version came after this sequence",
                ),
                _q("limit", {"type": "integer", "maximum": 5000}, "page size (default 1000)"),
                _q("page_token", {"type": "string"}, "next_page_token of the last page"),
            ],
            "responses": {"200": _body("RecordPage"), **ERRORS},
        }
    },
    "/api/records/{kind}/{record_id}": {
        "get": {
            "summary": "The latest version of a record (404 if deleted), or ?version=N",
            "parameters": [KIND, RECORD_ID, _q("version", {"type": "integer", "minimum": 1}, "")],
            "responses": {"200": _body("Record"), **ERRORS},
        }
    },
    "/api/records/{kind}/{record_id}/history": {
        "get": {
            "summary": "Every version of a record, oldest first",
            "parameters": [KIND, RECORD_ID],
            "responses": {"200": _body("RecordList"), **ERRORS},
        }
    },
}

SCHEMAS: dict[str, Any] = {
    "Record": {
        "type": "object",
        "properties": {
            "kind": {"type": "string"},
            "id": {"type": "string"},
            "version": {"type": "integer"},
            "sequence": {"type": "integer"},
            "parent": {"type": ["string", "null"]},
            "deleted": {"type": "boolean"},
            "created_time_ms": {"type": "integer"},
            "created_by": {"type": ["string", "null"]},
            "updated_time_ms": {"type": "integer"},
            "updated_by": {"type": ["string", "null"]},
            "data": {"type": "object"},
        },
    },
    "RecordWrite": {
        "type": "object",
        "required": ["kind", "id"],
        "properties": {
            "kind": {"type": "string"},
            "id": {"type": "string"},
            "data": {"type": "object", "description": "JSON; NaN and Infinity are rejected"},
            "parent": {"type": "string"},
            "expected_version": {"type": "integer", "minimum": 0},
            "deleted": {"type": "boolean"},
        },
    },
    "RecordBatch": {
        "type": "object",
        "required": ["records"],
        "properties": {
            "records": {"type": "array", "items": _ref("RecordWrite"), "minItems": 1},
            "author": {"type": "string", "maxLength": 256},
        },
    },
    "RecordList": {
        "type": "object",
        "properties": {"records": {"type": "array", "items": _ref("Record")}},
    },
    "RecordPage": {
        "type": "object",
        "properties": {
            "records": {"type": "array", "items": _ref("Record")},
            "as_of": {"type": "integer"},
            "next_page_token": {"type": ["string", "null"]},
        },
    },
    "ConflictError": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"const": "CONFLICT"},
                    "message": {"type": "string"},
                    "kind": {"type": "string"},
                    "record_id": {"type": "string"},
                    "expected_version": {"type": "integer"},
                    "actual_version": {"type": "integer"},
                },
            }
        },
    },
}
