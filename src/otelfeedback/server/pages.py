"""The HTML pages: the traces table and the trace page. Each has a JSON twin
(``?format=json``), and the assessment forms post back here (CSRF-checked)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from otelfeedback.server import forms, present
from otelfeedback.server._http import HTTPError, http_error, json_response, query_int
from otelfeedback.server.api_traces import load_trace
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.server.rendering import render
from otelfeedback.store.entities import Trace

PAGE_SIZE = 50
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
        raise HTTPError(400, "INVALID_ARGUMENT", f"sort: expected one of {', '.join(SORTABLE)}")
    direction = "ASC" if q.get("dir", "desc").lower() == "asc" else "DESC"
    size = query_int(request, "max_results", PAGE_SIZE, 500)
    page_number = max(1, int(q.get("page", "1"))) if q.get("page", "1").isdigit() else 1
    error, token = None, None
    traces: list[Trace] = []
    try:
        page = ctx.store.search_traces(
            filter_string or None,
            size,
            [f"{SORTABLE[sort]} {direction}"],
            q.get("page_token") or None,
            None,
            False,
        )
        traces, token = list(page), page.token
    except Exception as exc:
        mapped = http_error(exc)
        if mapped.status != 400:
            raise
        error = mapped.message
    columns = present.assessment_columns(traces, present.store_assessment_names(ctx.store))
    base = {"filter": filter_string, "sort": sort, "dir": direction.lower(), "max_results": size}
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
    }


async def traces_page(request: Request) -> Response:
    ctx = get_context(request)
    try:
        model = await run_in_threadpool(_traces_model, ctx, request)
    except Exception as exc:
        return _error_page(request, exc)
    if _wants_json(request):
        return json_response(
            {
                "filter": model["filter"],
                "filter_error": model["filter_error"],
                "columns": [{"kind": c.kind, "name": c.name} for c in model["columns"]],
                "traces": [t.info.to_dict() for t in model["traces"]],
                "next_page_token": model["next_page_token"],
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
        **{k: v for k, v in extra.items() if k not in ("form", "form_error")},
    }


async def trace_page(request: Request) -> Response:
    ctx = get_context(request)
    try:
        trace = await run_in_threadpool(load_trace, ctx, request.path_params["trace_id"])
    except Exception as exc:
        return _error_page(request, exc)
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
    try:
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
    except Exception as exc:
        return await _form_failed(request, ctx, trace_id, form, exc)
    response = RedirectResponse(trace_url(trace_id, parsed.span_id, "assessments"), 303)
    forms.remember_reviewer(response, parsed.reviewer)
    return response


async def edit_assessment(request: Request) -> Response:
    ctx = get_context(request)
    trace_id, assessment_id = request.path_params["trace_id"], request.path_params["aid"]
    form = await forms.read_form(request)
    try:
        forms.check_csrf(request, form)
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
    except Exception as exc:
        return await _form_failed(request, ctx, trace_id, form, exc)
    response = RedirectResponse(trace_url(trace_id, current.span_id, "assessments"), 303)
    forms.remember_reviewer(response, parsed.reviewer)
    return response


async def delete_assessment(request: Request) -> Response:
    ctx = get_context(request)
    trace_id, assessment_id = request.path_params["trace_id"], request.path_params["aid"]
    form = await forms.read_form(request)
    try:
        forms.check_csrf(request, form)
        await run_in_threadpool(ctx.writer.delete, trace_id, assessment_id)
    except Exception as exc:
        return await _form_failed(request, ctx, trace_id, form, exc)
    return RedirectResponse(trace_url(trace_id, form.get("span_id") or None, "assessments"), 303)


async def _form_failed(
    request: Request, ctx: ServerContext, trace_id: str, form: dict[str, str], exc: Exception
) -> Response:
    try:
        error = http_error(exc)
    except Exception:
        raise exc from None
    if error.status != 400:
        return _error_page(request, error)
    trace = await run_in_threadpool(load_trace, ctx, trace_id)
    model = await run_in_threadpool(
        lambda: trace_model(ctx, trace, form.get("span_id"), form=form, form_error=error.message)
    )
    return render(request, "trace.html", model, 400)


def _error_page(request: Request, exc: Exception) -> Response:
    error = http_error(exc)
    if _wants_json(request):
        return json_response(error.to_dict(), error.status)
    return render(request, "error.html", {"error": error}, error.status)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/traces", traces_page, methods=["GET"]),
    Route("/traces/{trace_id}", trace_page, methods=["GET"]),
    Route("/traces/{trace_id}/assessments", create_assessment, methods=["POST"]),
    Route("/traces/{trace_id}/assessments/{aid}/edit", edit_assessment, methods=["POST"]),
    Route("/traces/{trace_id}/assessments/{aid}/delete", delete_assessment, methods=["POST"]),
]
