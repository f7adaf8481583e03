"""The HTML pages: the traces table and the trace page. Each has a JSON twin
(``?format=json``), and the assessment forms post back here (CSRF-checked).

Handlers raise; ``server.errors`` renders the error page (or JSON for ``?format=json``), and
``form_rejected`` shows the trace page again when the SDK refuses a form's input."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from otelfeedback.assessments import validation as v
from otelfeedback.errors import FilterSyntaxError, InvalidArgumentError, OtelFeedbackError
from otelfeedback.server import forms, present, selection
from otelfeedback.server._http import HTTPError, json_response, query_int
from otelfeedback.server.api_traces import load_trace
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.server.errors import error_response, http_error
from otelfeedback.server.rendering import render
from otelfeedback.store.entities import Trace

PAGE_SIZE = 50
MAX_PAGE_NUMBER = 10**9
SORTABLE = {
    "time": "timestamp_ms",
    "latency": "execution_time_ms",
    "tokens": "total_tokens",
    "status": "status",
    "name": "name",
}


def _wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


async def home(request: Request) -> Response:
    return RedirectResponse("/traces", status_code=307)


# -- traces table -----------------------------------------------------------------------
def _traces_model(ctx: ServerContext, request: Request) -> dict[str, Any]:
    q = request.query_params
    filter_string = q.get("filter", "").strip()
    sort = q.get("sort", "time")
    if sort not in SORTABLE:
        raise HTTPError(
            400, "INVALID_ARGUMENT", f"sort: expected one of {', '.join(SORTABLE)}", "sort"
        )
    direction = q.get("dir", "desc").upper()
    if direction not in ("ASC", "DESC"):
        raise HTTPError(400, "INVALID_ARGUMENT", "dir: expected asc or desc", "dir")
    size = query_int(request, "max_results", PAGE_SIZE, 500)
    page_number = query_int(request, "page", 1, MAX_PAGE_NUMBER)
    error, token = None, None
    traces: list[Trace] = []
    try:
        page = ctx.store.search_traces(
            filter_string or None,
            size,
            [f"{SORTABLE[sort]} {direction}"],
            q.get("page_token") or None,
            q.get("run_id") or None,
            False,
        )
        traces, token = list(page), page.token
    except (FilterSyntaxError, InvalidArgumentError) as exc:  # shown above the table
        error = str(exc)
    columns = present.assessment_columns(traces, present.store_assessment_names(ctx.store))
    base = {
        "filter": filter_string,
        "sort": sort,
        "dir": direction.lower(),
        "max_results": size,
        "run_id": q.get("run_id") or None,
    }
    return {
        "filter": filter_string,
        "filter_error": error,
        "sort": sort,
        "dir": direction.lower(),
        "traces": traces,
        "columns": columns,
        "next_page_token": token,
        "page_number": page_number,
        "base_query": base,
        "store_path": str(ctx.store.path),
        "selection_actions": selection.actions(ctx),
        "index": ctx.store.index_status(),
    }


async def traces_page(request: Request) -> Response:
    ctx = get_context(request)
    model = await run_in_threadpool(_traces_model, ctx, request)
    if _wants_json(request):
        return json_response(
            {
                "filter": model["filter"],
                "filter_error": model["filter_error"],
                "columns": [{"kind": c.kind, "name": c.name} for c in model["columns"]],
                "traces": [t.info.to_dict() for t in model["traces"]],
                "next_page_token": model["next_page_token"],
                "index": model["index"].to_dict(),
            },
            400 if model["filter_error"] else 200,
        )
    status = 400 if model["filter_error"] else 200
    return render(request, "traces.html", model, status)


# -- one trace ------------------------------------------------------------------------------
def trace_model(
    ctx: ServerContext, trace: Trace, span_id: str | None, **extra: Any
) -> dict[str, Any]:
    rows = present.span_tree(trace)
    by_id = {r.span.span_id: r for r in rows}
    selected = by_id.get(span_id or "") or by_id.get(trace.info.root_span_id or "")
    if selected is None and rows:
        selected = rows[0]
    names = present.store_assessment_names(ctx.store)
    return {
        "trace": trace,
        "rows": rows,
        "selected": selected,
        "by_span": present.assessments_by_span(trace),
        "root_span_id": trace.info.root_span_id or (rows[0].span.span_id if rows else None),
        "names": sorted(set(names["feedback"]) | set(names["expectation"])),
        "form": extra.get("form") or {},
        "form_error": extra.get("form_error"),
        "selection_actions": selection.actions(ctx),
        **{k: v for k, v in extra.items() if k not in ("form", "form_error")},
    }


async def trace_page(request: Request) -> Response:
    ctx = get_context(request)
    trace = await run_in_threadpool(load_trace, ctx, request.path_params["trace_id"])
    if _wants_json(request):
        return json_response(trace.to_dict())
    model = await run_in_threadpool(trace_model, ctx, trace, request.query_params.get("span"))
    return render(request, "trace.html", model)


def trace_url(trace_id: str, span_id: str | None = None, anchor: str = "") -> str:
    url = f"/traces/{quote(trace_id)}"
    if span_id:
        url += "?" + urlencode({"span": span_id})
    return url + (f"#{anchor}" if anchor else "")


# -- assessment forms -------------------------------------------------------------------------
async def create_assessment(request: Request) -> Response:
    ctx = get_context(request)
    trace_id = request.path_params["trace_id"]
    form = await forms.read_form(request)
    with forms.rejected_as(trace_id, form):
        forms.check_csrf(request, form)
        parsed = forms.parse_new_assessment(form)
        await run_in_threadpool(
            lambda: ctx.writer.create(
                trace_id,
                kind=parsed.kind,
                name=parsed.name,
                value=parsed.value,
                rationale=parsed.rationale,
                source=parsed.source,
                span_id=parsed.span_id,
            )
        )
    response = RedirectResponse(trace_url(trace_id, parsed.span_id, "assessments"), 303)
    forms.remember_reviewer(response, parsed.reviewer)
    return response


async def edit_assessment(request: Request) -> Response:
    ctx = get_context(request)
    trace_id, assessment_id = request.path_params["trace_id"], request.path_params["aid"]
    form = await forms.read_form(request)
    with forms.rejected_as(trace_id, form):
        forms.check_csrf(request, form)
        v.check_trace_id(trace_id)
        v.check_assessment_id(assessment_id)
        parsed = forms.parse_edit(form)
        current = await run_in_threadpool(ctx.store.get_assessment, trace_id, assessment_id)
        await run_in_threadpool(
            lambda: ctx.writer.edit(
                trace_id,
                assessment_id,
                value=parsed.value,
                rationale=parsed.rationale,
                reviewer=parsed.reviewer,
                current=current,
            )
        )
    response = RedirectResponse(trace_url(trace_id, current.span_id, "assessments"), 303)
    forms.remember_reviewer(response, parsed.reviewer)
    return response


async def delete_assessment(request: Request) -> Response:
    ctx = get_context(request)
    trace_id, assessment_id = request.path_params["trace_id"], request.path_params["aid"]
    form = await forms.read_form(request)
    with forms.rejected_as(trace_id, form):
        forms.check_csrf(request, form)
        v.check_trace_id(trace_id)
        v.check_assessment_id(assessment_id)
        await run_in_threadpool(ctx.writer.delete, trace_id, assessment_id)
    return RedirectResponse(trace_url(trace_id, form.get("span_id") or None, "assessments"), 303)


async def form_rejected(request: Request, exc: Exception) -> Response:
    """Exception handler for ``forms.FormRejected``: the trace page again with the message
    beside the form (400), or the error page when the failure is not the input's or the
    trace itself cannot be shown."""
    assert isinstance(exc, forms.FormRejected)
    error = http_error(exc.cause)
    if error.status != 400:
        return error_response(request, error)
    ctx = get_context(request)
    try:
        trace = await run_in_threadpool(load_trace, ctx, exc.trace_id)
    except OtelFeedbackError as failed:  # a malformed or unknown trace id: say that instead
        return error_response(request, http_error(failed))
    form = exc.form
    model = await run_in_threadpool(
        lambda: trace_model(ctx, trace, form.get("span_id"), form=form, form_error=error.message)
    )
    return render(request, "trace.html", model, 400)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/traces", traces_page, methods=["GET"]),
    Route("/traces/{trace_id}", trace_page, methods=["GET"]),
    Route("/traces/{trace_id}/assessments", create_assessment, methods=["POST"]),
    Route("/traces/{trace_id}/assessments/{aid}/edit", edit_assessment, methods=["POST"]),
    Route("/traces/{trace_id}/assessments/{aid}/delete", delete_assessment, methods=["POST"]),
]
