"""The Evaluations section of the UI: runs, a run's rows, comparing two runs, judge-vs-human
alignment. Each page has its JSON twin (``?format=json``)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback import semconv as sc
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.evaluation import runs
from otelfeedback.server import evaluation_views as views
from otelfeedback.server import present
from otelfeedback.server._http import http_error, json_response
from otelfeedback.server.context import get_context
from otelfeedback.server.rendering import render


def _wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


def _error_page(request: Request, exc: Exception) -> Response:
    error = http_error(exc)
    if _wants_json(request):
        return json_response(error.to_dict(), error.status)
    return render(request, "error.html", {"error": error}, error.status)


def alignment_params(request: Request) -> dict[str, Any]:
    q = request.query_params
    params: dict[str, Any] = {
        k: q.get(k, "")
        for k in ("judge", "human", "mapping", "judge_model", "prompt_hash", "run_id", "positive")
    }
    params["map"] = q.getlist("map")
    return params


def judge_traces_filter(run_id: str) -> str:
    """The traces-table filter that lists a run's judge calls."""
    return f"metadata.`{sc.JUDGE_RUN_ID}` = '{run_id}'"


async def runs_page(request: Request) -> Response:
    ctx = get_context(request)
    try:
        found = await run_in_threadpool(runs.list_runs, ctx.store)
    except Exception as exc:
        return _error_page(request, exc)
    if _wants_json(request):
        return json_response({"runs": [r.to_dict() for r in found]})
    return render(request, "evaluations.html", {"runs": found})


async def run_page(request: Request) -> Response:
    ctx = get_context(request)
    q = request.query_params
    page = int(q["page"]) if q.get("page", "").isdigit() else 1
    try:
        model = await run_in_threadpool(
            views.run_page,
            ctx.store,
            request.path_params["run_id"],
            page,
            q.get("only") == "failed",
        )
    except Exception as exc:
        return _error_page(request, exc)
    if _wants_json(request):
        return json_response(views.run_page_json(model))
    model["judge_filter"] = judge_traces_filter(model["run"].run_id)
    return render(request, "evaluation_run.html", model)


async def compare_page(request: Request) -> Response:
    ctx = get_context(request)
    q = request.query_params
    base, candidate = q.get("base") or None, q.get("candidate") or None
    try:
        all_runs = await run_in_threadpool(runs.list_runs, ctx.store)
        result = None
        if (base and candidate) or _wants_json(request):
            result = await run_in_threadpool(views.comparison, ctx.store, base, candidate)
    except Exception as exc:
        return _error_page(request, exc)
    if _wants_json(request):
        assert result is not None
        return json_response(result.to_dict())
    model = {"runs": all_runs, "result": result, "base": base, "candidate": candidate}
    return render(request, "evaluation_compare.html", model)


async def alignment_page(request: Request) -> Response:
    ctx = get_context(request)
    params = alignment_params(request)
    try:
        report = await run_in_threadpool(views.alignment_report, ctx.store, params)
        names = await run_in_threadpool(present.store_assessment_names, ctx.store)
    except Exception as exc:
        mapped = http_error(exc)
        if mapped.status != 400 or _wants_json(request):
            return _error_page(request, exc)
        model: dict[str, Any] = {
            "params": params,
            "report": None,
            "names": [],
            "error": mapped.message,
        }
        return render(request, "evaluation_alignment.html", model, 400)
    if _wants_json(request):
        if report is None:
            missing = InvalidArgumentError("judge", "give both ?judge=NAME and ?human=NAME")
            return _error_page(request, missing)
        return json_response(report.to_dict())
    model = {"params": params, "report": report, "names": names["feedback"], "error": None}

    return render(request, "evaluation_alignment.html", model)


routes = [
    Route("/evaluations", runs_page, methods=["GET"]),
    Route("/evaluations/compare", compare_page, methods=["GET"]),
    Route("/evaluations/alignment", alignment_page, methods=["GET"]),
    Route("/evaluations/runs/{run_id}", run_page, methods=["GET"]),
]
