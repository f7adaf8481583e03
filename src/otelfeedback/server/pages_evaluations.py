"""The Evaluations section of the UI: runs, a run's rows, comparing two runs, judge-vs-human
alignment. Each page has its JSON twin (``?format=json``).

Handlers raise; ``server.errors`` renders the error page (or JSON for ``?format=json``)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback import semconv as sc
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.evaluation import runs
from otelfeedback.evaluation.compare import RunComparison
from otelfeedback.server import evaluation_views as views
from otelfeedback.server import present
from otelfeedback.server._http import json_response, query_int
from otelfeedback.server.context import get_context
from otelfeedback.server.rendering import render

MAX_PAGE_NUMBER = 1_000_000


def _wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


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
    found = await run_in_threadpool(runs.list_runs, ctx.store)
    if _wants_json(request):
        return json_response({"runs": [r.to_dict() for r in found]})
    return render(request, "evaluations.html", {"runs": found})


async def run_page(request: Request) -> Response:
    ctx = get_context(request)
    page = query_int(request, "page", 1, MAX_PAGE_NUMBER)
    model = await run_in_threadpool(
        views.run_page,
        ctx.store,
        request.path_params["run_id"],
        page,
        request.query_params.get("only") == "failed",
    )
    if _wants_json(request):
        return json_response(views.run_page_json(model))
    model["judge_filter"] = judge_traces_filter(model["run"].run_id)
    return render(request, "evaluation_run.html", model)


async def compare_page(request: Request) -> Response:
    ctx = get_context(request)
    q = request.query_params
    base, candidate = q.get("base") or None, q.get("candidate") or None
    if _wants_json(request):
        compared = await run_in_threadpool(views.comparison, ctx.store, base, candidate)
        return json_response(compared.to_dict())
    all_runs = await run_in_threadpool(runs.list_runs, ctx.store)
    result: RunComparison | None = None
    if base and candidate:
        result = await run_in_threadpool(views.comparison, ctx.store, base, candidate)
    model = {"runs": all_runs, "result": result, "base": base, "candidate": candidate}
    return render(request, "evaluation_compare.html", model)


async def alignment_page(request: Request) -> Response:
    ctx = get_context(request)
    params = alignment_params(request)
    if _wants_json(request):
        if not params["judge"] or not params["human"]:
            raise InvalidArgumentError("judge", "give both ?judge=NAME and ?human=NAME")
        report = await run_in_threadpool(views.alignment_report, ctx.store, params)
        assert report is not None
        return json_response(report.to_dict())
    names = await run_in_threadpool(present.store_assessment_names, ctx.store)
    model: dict[str, Any] = {"params": params, "names": names["feedback"], "error": None}
    try:
        model["report"] = await run_in_threadpool(views.alignment_report, ctx.store, params)
    except InvalidArgumentError as exc:  # shown beside the form, what was typed kept
        model["report"], model["error"] = None, str(exc)
        return render(request, "evaluation_alignment.html", model, 400)
    return render(request, "evaluation_alignment.html", model)


routes = [
    Route("/evaluations", runs_page, methods=["GET"]),
    Route("/evaluations/compare", compare_page, methods=["GET"]),
    Route("/evaluations/alignment", alignment_page, methods=["GET"]),
    Route("/evaluations/runs/{run_id}", run_page, methods=["GET"]),
]
