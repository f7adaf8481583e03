"""The OpenAPI 3.1 document of the JSON API (``GET /api/openapi.json``)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback.assessments import schema
from otelfeedback.server import (
    openapi_datasets,
    openapi_evaluations,
    openapi_labeling,
    openapi_records,
)
from otelfeedback.server._http import json_response
from otelfeedback.server.context import get_context

_TRACE_ID = {
    "name": "trace_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}
_AID = {"name": "aid", "in": "path", "required": True, "schema": {"type": "string"}}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _ok(ref: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, **_json(ref)}


_ERRORS = {
    "400": _ok("Error", "Bad input (the message says which argument and why)"),
    "404": _ok("Error", "No such trace, span or assessment"),
}
#: also for the routes that take a JSON body
_BODY_ERRORS = {
    **_ERRORS,
    "413": _ok("Error", "Body larger than the server's limit (8 MiB by default)"),
    "415": _ok("Error", "Body not sent as application/json"),
}

_ASSESSMENT = schema.openapi_schema()


def document(version: str) -> dict[str, Any]:
    result = _document(version)
    for part in (openapi_records, openapi_labeling, openapi_evaluations, openapi_datasets):
        result["paths"].update(part.PATHS)
        result["components"]["schemas"].update(part.SCHEMAS)
    return result


def _document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "otelfeedback server",
            "version": version,
            "description": "Traces and their assessments (feedback, expectations). "
            "OTLP/HTTP trace export goes to POST /v1/traces. With a token, send "
            "'Authorization: Bearer TOKEN'.",
        },
        "paths": {
            "/api/traces": {
                "get": {
                    "summary": "Search traces (filter grammar of search_traces), newest first",
                    "parameters": [
                        _q("filter", {"type": "string"}, "e.g. feedback.user_feedback = 'false'"),
                        _q("max_results", {"type": "integer", "maximum": 1000}, "page size"),
                        _q("order_by", {"type": "string"}, "repeatable, e.g. 'timestamp_ms DESC'"),
                        _q("page_token", {"type": "string"}, "next_page_token of the last page"),
                        _q("run_id", {"type": "string"}, "only traces of this run"),
                        _q("include_spans", {"type": "boolean"}, "also return spans"),
                    ],
                    "responses": {"200": _ok("TracePage"), **_ERRORS},
                }
            },
            "/api/traces/{trace_id}": {
                "get": {
                    "summary": "One trace with spans and assessments",
                    "parameters": [_TRACE_ID],
                    "responses": {"200": _ok("Trace"), **_ERRORS},
                }
            },
            "/api/traces/{trace_id}/spans/{span_id}": {
                "get": {
                    "summary": "One span",
                    "parameters": [
                        _TRACE_ID,
                        {
                            "name": "span_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {"200": {"description": "the span"}, **_ERRORS},
                }
            },
            "/api/traces/{trace_id}/assessments": {
                "get": {
                    "summary": "Every assessment of a trace (overridden ones: valid=false)",
                    "parameters": [_TRACE_ID],
                    "responses": {"200": {"description": "{assessments: [...]}"}, **_ERRORS},
                },
                "post": {
                    "summary": "Log feedback or an expectation",
                    "parameters": [_TRACE_ID],
                    "requestBody": {"required": True, **_json("NewAssessment")},
                    "responses": {"201": _ok("Assessment", "Created"), **_BODY_ERRORS},
                },
            },
            "/api/traces/{trace_id}/assessments/{aid}": {
                "get": {
                    "summary": "One assessment",
                    "parameters": [_TRACE_ID, _AID],
                    "responses": {"200": _ok("Assessment"), **_ERRORS},
                },
                "patch": {
                    "summary": "Update in place: name, value, rationale, metadata (merged)",
                    "parameters": [_TRACE_ID, _AID],
                    "requestBody": {"required": True, **_json("AssessmentUpdate")},
                    "responses": {"200": _ok("Assessment"), **_BODY_ERRORS},
                },
                "delete": {
                    "summary": "Delete (idempotent); deleting an override restores the old one",
                    "parameters": [_TRACE_ID, _AID],
                    "responses": {"204": {"description": "Deleted"}, **_ERRORS},
                },
            },
            "/api/traces/{trace_id}/assessments/{aid}/override": {
                "post": {
                    "summary": "Override a feedback, keeping it in the history",
                    "parameters": [_TRACE_ID, _AID],
                    "requestBody": {"required": True, **_json("Override")},
                    "responses": {"201": _ok("Assessment", "Created"), **_BODY_ERRORS},
                }
            },
            "/api/assessment-names": {
                "get": {
                    "summary": "Every assessment name in the store, by kind",
                    "responses": {"200": {"description": "{feedback: [...], expectation: [...]}"}},
                }
            },
            "/v1/traces": {
                "post": {
                    "summary": "OTLP/HTTP trace export (protobuf or JSON, optionally gzip)",
                    "responses": {
                        "200": {"description": "Accepted (ExportTraceServiceResponse)"},
                        "400": {"description": "Malformed (google.rpc.Status)"},
                        "413": {"description": "Body too large"},
                        "415": {"description": "Unsupported content type or encoding"},
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "argument": {"type": "string"},
                            },
                        }
                    },
                },
                "Source": schema.source_schema(),
                "Assessment": _ASSESSMENT,
                "NewAssessment": {
                    "type": "object",
                    "required": ["value"],
                    "properties": {
                        "kind": {"enum": ["feedback", "expectation"], "default": "feedback"},
                        "name": {"type": "string"},
                        "value": {},
                        "rationale": {"type": "string"},
                        "source": {"$ref": "#/components/schemas/Source"},
                        "span_id": {"type": "string"},
                        "metadata": {"type": "object"},
                        "error": {"type": ["object", "string"]},
                    },
                },
                "AssessmentUpdate": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "value": {},
                        "rationale": {"type": "string"},
                        "metadata": {"type": "object"},
                    },
                },
                "Override": {
                    "type": "object",
                    "required": ["value"],
                    "properties": {
                        "value": {},
                        "rationale": {"type": "string"},
                        "source": {"$ref": "#/components/schemas/Source"},
                        "metadata": {"type": "object"},
                    },
                },
                "TracePage": {
                    "type": "object",
                    "properties": {
                        "traces": {"type": "array", "items": {"type": "object"}},
                        "next_page_token": {"type": ["string", "null"]},
                    },
                },
                "Trace": {
                    "type": "object",
                    "properties": {
                        "info": {"type": "object"},
                        "spans": {"type": "array", "items": {"type": "object"}},
                    },
                },
            }
        },
    }


async def openapi(request: Request) -> Response:
    return json_response(document(get_context(request).version))


async def health(request: Request) -> Response:
    ctx = get_context(request)
    index = await run_in_threadpool(ctx.store.index_status)
    return json_response(
        {
            "status": "ok",
            "version": ctx.version,
            "ingested": {
                "requests": ctx.receiver.stats.requests,
                "spans": ctx.receiver.stats.spans,
                "rejected": ctx.receiver.stats.rejected,
            },
            "index": index.to_dict(),
        }
    )


routes = [
    Route("/api/openapi.json", openapi, methods=["GET"]),
    Route("/api/health", health, methods=["GET"]),
]
