"""``/api/evaluations``: evaluation runs, their rows, comparisons and alignment, as JSON.

Handlers raise; ``server.errors`` turns what they raise into the error response."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.evaluation import runs
from otelfeedback.server import evaluation_views as views
from otelfeedback.server._http import json_response, query_int
from otelfeedback.server.context import get_context
from otelfeedback.server.pages_evaluations import alignment_params

MAX_ROWS = 1000
MAX_OFFSET = 10**9


async def list_runs(request: Request) -> Response:
    """``GET /api/evaluations/runs``: every run, newest first."""
    ctx = get_context(request)
    found = await run_in_threadpool(runs.list_runs, ctx.store)
    return json_response({"runs": [r.to_dict() for r in found]})


async def get_run(request: Request) -> Response:
    """``GET /api/evaluations/runs/{run_id}``: one run."""
    ctx = get_context(request)
    run_id = runs.check_run_id(request.path_params["run_id"])
    run = await run_in_threadpool(runs.get_run, ctx.store, run_id)
    return json_response(run.to_dict())


def _rows(request: Request, offset: int, limit: int) -> dict[str, Any]:
    ctx = get_context(request)
    run = runs.get_run(ctx.store, runs.check_run_id(request.path_params["run_id"]))
    rows = runs.run_rows(ctx.store, run.run_id)
    more = offset + limit < len(rows)
    return {
        "rows": [r.to_dict() for r in rows[offset : offset + limit]],
        "total": len(rows),
        "next_offset": offset + limit if more else None,
    }


async def get_rows(request: Request) -> Response:
    """``GET /api/evaluations/runs/{run_id}/rows?offset=&limit=``: a page of its rows."""
    raw = request.query_params.get("offset") or "0"
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise InvalidArgumentError("offset", f"expected an integer >= 0, got {raw!r:.40}")
    limit = query_int(request, "limit", 100, MAX_ROWS)
    data = await run_in_threadpool(_rows, request, min(int(raw), MAX_OFFSET), limit)
    return json_response(data)


async def compare(request: Request) -> Response:
    """``GET /api/evaluations/compare?base=RUN&candidate=RUN``."""
    ctx = get_context(request)
    q = request.query_params
    result = await run_in_threadpool(views.comparison, ctx.store, q.get("base"), q.get("candidate"))
    return json_response(result.to_dict())


async def alignment(request: Request) -> Response:
    """``GET /api/evaluations/alignment?judge=&human=&map=VALUE=LABEL...``."""
    ctx = get_context(request)
    params = alignment_params(request)
    if not params["judge"] or not params["human"]:
        raise InvalidArgumentError("judge", "give both judge= and human=")
    report = await run_in_threadpool(views.alignment_report, ctx.store, params)
    assert report is not None
    return json_response(report.to_dict())


routes = [
    Route("/api/evaluations/runs", list_runs, methods=["GET"]),
    Route("/api/evaluations/runs/{run_id}", get_run, methods=["GET"]),
    Route("/api/evaluations/runs/{run_id}/rows", get_rows, methods=["GET"]),
    Route("/api/evaluations/compare", compare, methods=["GET"]),
    Route("/api/evaluations/alignment", alignment, methods=["GET"]),
]
