"""``/api/traces``: search (the ``search_traces`` filter grammar) and get, as JSON.

Handlers raise; ``server.errors`` turns what they raise into the error response."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback.assessments import validation as v
from otelfeedback.errors import NotFoundError
from otelfeedback.server._http import json_response, query_bool, query_int
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.store.entities import Trace

MAX_PAGE = 1000


def search_page(
    ctx: ServerContext,
    filter_string: str | None,
    max_results: int,
    order_by: list[str] | None,
    page_token: str | None,
    run_id: str | None = None,
    include_spans: bool = False,
) -> dict[str, Any]:
    """One page of the search, as the JSON the API returns."""
    page = ctx.store.search_traces(
        filter_string or None,
        max_results,
        order_by or None,
        page_token or None,
        run_id,
        include_spans,
    )
    traces: list[dict[str, Any]] = [
        t.to_dict() if include_spans else {"info": t.info.to_dict()} for t in page
    ]
    return {"traces": traces, "next_page_token": page.token}


async def search(request: Request) -> Response:
    """``GET /api/traces?filter=...&max_results=&order_by=&page_token=&include_spans=``"""
    ctx = get_context(request)
    q = request.query_params
    data = await run_in_threadpool(
        search_page,
        ctx,
        q.get("filter"),
        query_int(request, "max_results", 100, MAX_PAGE),
        q.getlist("order_by"),
        q.get("page_token"),
        q.get("run_id") or None,
        query_bool(request, "include_spans", False),
    )
    return json_response(data)


def load_trace(ctx: ServerContext, trace_id: str) -> Trace:
    return ctx.store.get_trace(v.check_trace_id(trace_id))


async def get(request: Request) -> Response:
    """``GET /api/traces/{trace_id}``: the trace with its spans and assessments."""
    ctx = get_context(request)
    trace = await run_in_threadpool(load_trace, ctx, request.path_params["trace_id"])
    return json_response(trace.to_dict())


async def get_span(request: Request) -> Response:
    """``GET /api/traces/{trace_id}/spans/{span_id}``: one span."""
    ctx = get_context(request)
    trace = await run_in_threadpool(load_trace, ctx, request.path_params["trace_id"])
    span_id = v.check_span_id(request.path_params["span_id"])
    for span in trace.spans:
        if span.span_id == span_id:
            return json_response(span.to_dict())
    raise NotFoundError(f"span {span_id} not in trace")


async def assessment_names(request: Request) -> Response:
    """``GET /api/assessment-names``: every assessment name in the store, by kind."""
    from otelfeedback.server.present import store_assessment_names

    ctx = get_context(request)
    names = await run_in_threadpool(store_assessment_names, ctx.store)
    return json_response({"feedback": names["feedback"], "expectation": names["expectation"]})


routes = [
    Route("/api/traces", search, methods=["GET"]),
    Route("/api/traces/{trace_id}", get, methods=["GET"]),
    Route("/api/traces/{trace_id}/spans/{span_id}", get_span, methods=["GET"]),
    Route("/api/assessment-names", assessment_names, methods=["GET"]),
]
