"""``/api/labeling``: label schemas, labeling sessions, their items, progress, agreement,
review links and labels over REST (documented in the OpenAPI document).

Every route runs the SDK's own function on the server's store (``using_store``), so checks
and errors are the SDK's: 400 naming the argument, 404 for an unknown schema, session or
item, 409 when a record changed under a write (rendered by ``server.errors``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.labeling import agreement, items, links, progress, reviews
from otelfeedback.labeling.inputs import input_from_dict
from otelfeedback.labeling.schemas import (
    create_label_schema,
    delete_label_schema,
    get_label_schema,
    list_label_schemas,
)
from otelfeedback.labeling.sessions import (
    LabelingSession,
    check_reviewer,
    create_labeling_session,
    delete_labeling_session,
    list_labeling_sessions,
    load_session,
)
from otelfeedback.server._http import json_body, json_response, query_int
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.server.labeling_pages import base_url, scoped
from otelfeedback.server.review import boards

Handler = Callable[[ServerContext, Request, dict[str, Any]], Any]


def _fields(
    body: dict[str, Any], allowed: set[str], required: frozenset[str] = frozenset()
) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidArgumentError(
            unknown[0], f"unknown field; expected {', '.join(sorted(allowed))}"
        )
    missing = sorted(required - set(body))
    if missing:
        raise InvalidArgumentError(missing[0], "required")


def route(handler: Handler, *, body: bool = False, status: int = 200) -> Callable[..., Any]:
    """An endpoint running ``handler`` (ctx, request, JSON body) on the server's store."""

    async def endpoint(request: Request) -> Response:
        ctx = get_context(request)
        data = await json_body(request) if body else {}
        result = await scoped(ctx, handler, ctx, request, data)
        return json_response(result, status)

    return endpoint


def _session(ctx: ServerContext, request: Request) -> LabelingSession:
    return load_session(ctx.store, request.path_params["session"])


def _with_progress(ctx: ServerContext, session: LabelingSession) -> dict[str, Any]:
    board = boards(ctx).get(ctx.store, session.labeling_session_id)
    return {
        **session.to_dict(),
        "progress": progress.progress_of(ctx.store, session, board).to_dict(),
    }


# -- schemas ----------------------------------------------------------------------------------
def list_schemas(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    return {"label_schemas": [s.to_dict() for s in list_label_schemas()]}


def create_schema(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    allowed = {"name", "type", "title", "input", "instruction", "enable_comment", "overwrite"}
    _fields(body, allowed, frozenset({"name", "title", "input"}))
    arguments = dict(body)
    arguments["input"] = input_from_dict(body["input"])
    name = arguments.pop("name")
    return create_label_schema(name, **arguments).to_dict()


def get_schema(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    return get_label_schema(request.path_params["name"]).to_dict()


def delete_schema(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    delete_label_schema(request.path_params["name"])
    return {"deleted": request.path_params["name"]}


# -- sessions ---------------------------------------------------------------------------------
def list_sessions(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    return {"labeling_sessions": [_with_progress(ctx, s) for s in list_labeling_sessions()]}


def create_session(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    allowed = {"name", "label_schemas", "assigned_users", "instructions", "reviewers_per_item"}
    _fields(body, allowed, frozenset({"name", "label_schemas"}))
    arguments = dict(body)
    session = create_labeling_session(arguments.pop("name"), **arguments)
    return _with_progress(ctx, session)


def get_session(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    return _with_progress(ctx, _session(ctx, request))


def delete_session(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    session = _session(ctx, request)
    delete_labeling_session(session)
    return {"deleted": session.labeling_session_id}


def add_traces(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    _fields(body, {"trace_ids", "filter"})
    session = _session(ctx, request)
    if "filter" in body:
        if "trace_ids" in body or not isinstance(body["filter"], str):
            raise InvalidArgumentError("filter", "give a filter string or trace_ids, not both")
        found = ctx.store.search_traces(body["filter"] or None, None, None, None, None, False)
        ids = [t.info.trace_id for t in found]
    else:
        ids = items.trace_ids(body.get("trace_ids"))
    added = items.add(ctx.store, session, ids)
    board = boards(ctx).get(ctx.store, session.labeling_session_id)
    return {"added": added, "total": len(board.items)}


def remove_traces(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    _fields(body, {"trace_ids"}, frozenset({"trace_ids"}))
    session = _session(ctx, request)
    return {"removed": items.remove(ctx.store, session, items.trace_ids(body["trace_ids"]))}


def list_items(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    session = _session(ctx, request)
    board = boards(ctx).get(ctx.store, session.labeling_session_id)
    everything = progress.items_of(ctx.store, session, board)
    offset = query_int(request, "offset", 1, 10**9) - 1 if request.query_params.get("offset") else 0
    limit = query_int(request, "limit", 1000, 5000)
    shown = everything[offset : offset + limit]
    return {"items": [i.to_dict() for i in shown], "total": len(everything), "offset": offset}


def get_progress(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    session = _session(ctx, request)
    board = boards(ctx).get(ctx.store, session.labeling_session_id)
    return progress.progress_of(ctx.store, session, board).to_dict()


def get_agreement(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    session = _session(ctx, request)
    board = boards(ctx).get(ctx.store, session.labeling_session_id)
    return agreement.report(ctx.store, session, board).to_dict()


def make_link(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    _fields(body, {"reviewer", "expires_in_seconds"})
    session = _session(ctx, request)
    reviewer = body.get("reviewer")
    user = "" if reviewer is None else check_reviewer(session, reviewer)
    try:
        expires = links.expiry_seconds(body.get("expires_in_seconds", links.DEFAULT_LIFETIME))
    except InvalidArgumentError as exc:
        message = str(exc).removeprefix(f"{exc.argument}: ")
        raise InvalidArgumentError("expires_in_seconds", message) from None
    token = links.sign(ctx.store, session.labeling_session_id, user, expires)
    return {
        "url": links.link_url(base_url(request), token),
        "reviewer": user or None,
        "expires_time_ms": expires * 1000,
    }


def submit_labels(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    _fields(
        body,
        {"trace_id", "reviewer", "labels", "comments"},
        frozenset({"trace_id", "reviewer", "labels"}),
    )
    session = _session(ctx, request)
    review = reviews.submit(
        ctx.store, session, body["trace_id"], body["reviewer"], body["labels"], body.get("comments")
    )
    return review.to_dict()


def rotate_secret(ctx: ServerContext, request: Request, body: dict[str, Any]) -> Any:
    return {"key_version": links.rotate(ctx.store)}


_S = "/api/labeling/sessions/{session}"
routes = [
    Route("/api/labeling/schemas", route(list_schemas), methods=["GET"]),
    Route("/api/labeling/schemas", route(create_schema, body=True, status=201), methods=["POST"]),
    Route("/api/labeling/schemas/{name:path}", route(get_schema), methods=["GET"]),
    Route("/api/labeling/schemas/{name:path}", route(delete_schema), methods=["DELETE"]),
    Route("/api/labeling/sessions", route(list_sessions), methods=["GET"]),
    Route("/api/labeling/sessions", route(create_session, body=True, status=201), methods=["POST"]),
    Route(_S, route(get_session), methods=["GET"]),
    Route(_S, route(delete_session), methods=["DELETE"]),
    Route(_S + "/traces", route(add_traces, body=True), methods=["POST"]),
    Route(_S + "/traces/remove", route(remove_traces, body=True), methods=["POST"]),
    Route(_S + "/items", route(list_items), methods=["GET"]),
    Route(_S + "/progress", route(get_progress), methods=["GET"]),
    Route(_S + "/agreement", route(get_agreement), methods=["GET"]),
    Route(_S + "/links", route(make_link, body=True, status=201), methods=["POST"]),
    Route(_S + "/labels", route(submit_labels, body=True, status=201), methods=["POST"]),
    Route("/api/labeling/link-secret/rotate", route(rotate_secret), methods=["POST"]),
]
