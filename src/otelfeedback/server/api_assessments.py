"""``/api/traces/{trace_id}/assessments``: create, get, update, override and delete.

Bodies are JSON (``application/json`` only). Handlers raise; ``server.errors`` turns what they
raise into the error response. Every write goes through the SDK's assessment
functions (``server.writes``), so validation, defaults and the records written are the SDK's.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback.assessments import validation as v
from otelfeedback.server._http import json_body, json_response
from otelfeedback.server.api_traces import load_trace
from otelfeedback.server.context import get_context
from otelfeedback.server.writes import source_from

_CREATE_FIELDS = {"kind", "name", "value", "rationale", "source", "span_id", "metadata", "error"}
_UPDATE_FIELDS = {"name", "value", "rationale", "metadata"}
_OVERRIDE_FIELDS = {"value", "rationale", "source", "metadata"}


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    from otelfeedback.errors import InvalidArgumentError

    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidArgumentError(
            unknown[0], f"unknown field; expected some of {', '.join(sorted(allowed))}"
        )


def _error(raw: Any) -> Any:
    """``{"error_code", "error_message"?, "stack_trace"?}`` or a message string."""
    if isinstance(raw, dict):
        from otelfeedback.assessments.entities import AssessmentError
        from otelfeedback.errors import InvalidArgumentError

        if not isinstance(raw.get("error_code"), str):
            raise InvalidArgumentError("error.error_code", "expected a string")
        return AssessmentError(raw["error_code"], raw.get("error_message"), raw.get("stack_trace"))
    return raw


def _ids(request: Request) -> tuple[str, str]:
    return (
        v.check_trace_id(request.path_params["trace_id"]),
        v.check_assessment_id(request.path_params["aid"]),
    )


async def list_assessments(request: Request) -> Response:
    """``GET``: every assessment of the trace, overridden ones included (``valid: false``)."""
    ctx = get_context(request)
    trace = await run_in_threadpool(load_trace, ctx, request.path_params["trace_id"])
    return json_response({"assessments": [a.to_dict() for a in trace.assessments]})


async def create(request: Request) -> Response:
    """``POST`` ``{kind, name, value, rationale?, source?, span_id?, metadata?, error?}``."""
    ctx = get_context(request)
    body = await json_body(request)
    _only(body, _CREATE_FIELDS)
    kind = body.get("kind", "feedback")
    default_type = "CODE" if kind == "feedback" else "HUMAN"
    trace_id = v.check_trace_id(request.path_params["trace_id"])
    result = await run_in_threadpool(
        lambda: ctx.writer.create(
            trace_id,
            kind=kind,
            name=body.get("name", "feedback" if kind == "feedback" else None),
            value=body.get("value"),
            rationale=body.get("rationale"),
            source=source_from(body.get("source"), default_type),
            span_id=body.get("span_id"),
            metadata=body.get("metadata"),
            error=_error(body.get("error")),
        )
    )
    return json_response(result.to_dict(), 201)


async def get(request: Request) -> Response:
    ctx = get_context(request)
    trace_id, assessment_id = _ids(request)
    result = await run_in_threadpool(ctx.store.get_assessment, trace_id, assessment_id)
    return json_response(result.to_dict())


async def update(request: Request) -> Response:
    """``PATCH`` ``{name?, value?, rationale?, metadata?}``: edit in place (no history)."""
    ctx = get_context(request)
    trace_id, assessment_id = _ids(request)
    body = await json_body(request)
    _only(body, _UPDATE_FIELDS)
    result = await run_in_threadpool(lambda: ctx.writer.update(trace_id, assessment_id, **body))
    return json_response(result.to_dict())


async def override(request: Request) -> Response:
    """``POST .../override`` ``{value, rationale?, source?, metadata?}``: a new feedback that
    replaces this one, which stays in the history (``valid: false``)."""
    ctx = get_context(request)
    trace_id, assessment_id = _ids(request)
    body = await json_body(request)
    _only(body, _OVERRIDE_FIELDS)
    result = await run_in_threadpool(
        lambda: ctx.writer.override(
            trace_id,
            assessment_id,
            value=body.get("value"),
            rationale=body.get("rationale"),
            source=source_from(body.get("source")),
            metadata=body.get("metadata"),
        )
    )
    return json_response(result.to_dict(), 201)


async def delete(request: Request) -> Response:
    """``DELETE``: idempotent; deleting an override makes the one it replaced valid again."""
    ctx = get_context(request)
    trace_id, assessment_id = _ids(request)
    await run_in_threadpool(ctx.writer.delete, trace_id, assessment_id)
    return Response(status_code=204)


routes = [
    Route("/api/traces/{trace_id}/assessments", list_assessments, methods=["GET"]),
    Route("/api/traces/{trace_id}/assessments", create, methods=["POST"]),
    Route("/api/traces/{trace_id}/assessments/{aid}", get, methods=["GET"]),
    Route("/api/traces/{trace_id}/assessments/{aid}", update, methods=["PATCH"]),
    Route("/api/traces/{trace_id}/assessments/{aid}", delete, methods=["DELETE"]),
    Route("/api/traces/{trace_id}/assessments/{aid}/override", override, methods=["POST"]),
]
