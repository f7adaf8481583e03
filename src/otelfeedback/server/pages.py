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
from otelfeedback.errors import OtelFeedbackError
from otelfeedback.server import forms, present, selection, trace_view, traces_table
from otelfeedback.server._http import json_response
from otelfeedback.server.api_traces import load_trace
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.server.errors import error_response, http_error
from otelfeedback.server.list_state import ListState
from otelfeedback.server.rendering import render
from otelfeedback.store.entities import Trace


def _wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


async def home(request: Request) -> Response:
    return RedirectResponse("/traces", status_code=307)


# -- traces table -----------------------------------------------------------------------
async def traces_page(request: Request) -> Response:
    ctx = get_context(request)
    state = ListState.parse(request.query_params)
    if request.query_params.get("columns") == "1":  # the column chooser's answer
        return _choose_columns(ctx, request, state)
    model = await run_in_threadpool(traces_table.table_model, ctx, request, state)
    status = 400 if model["filter_error"] else 200
    if _wants_json(request):
        return json_response(traces_table.table_json(model), status)
    return render(request, "traces.html", model, status)


def _choose_columns(ctx: ServerContext, request: Request, state: ListState) -> Response:
    columns = traces_table.all_columns(present.store_assessment_names(ctx.store))
    shown = set(request.query_params.getlist("col"))
    response = RedirectResponse(state.url(), 303)
    traces_table.remember_columns(response, columns, shown)
    return response


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
    extra.setdefault("list_param", None)
    extra.setdefault("index_param", None)
    view = trace_view.page_model(
        ctx, trace, span_id, extra.pop("list_param"), extra.pop("index_param")
    )
    return {
        **view,
        **(trace_view.span_model(ctx, selected.span) if selected else {}),
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
    q = request.query_params
    model = await run_in_threadpool(
        lambda: trace_model(
            ctx, trace, q.get("span"), list_param=q.get("list"), index_param=q.get("i")
        )
    )
    return render(request, "trace.html", model, 404 if model["missing_span"] else 200)


async def form_url(request: Request) -> Response:
    """A form's address opened with GET (the URL a rejected form leaves in the address
    bar, reopened or bookmarked): go to the trace. Malformed ids are a 400 as on a post."""
    trace_id = v.check_trace_id(request.path_params["trace_id"])
    if "aid" in request.path_params:
        v.check_assessment_id(request.path_params["aid"])
    return RedirectResponse(trace_url(trace_id), 303)


def trace_url(
    trace_id: str,
    span_id: str | None = None,
    anchor: str = "",
    form: dict[str, str] | None = None,
) -> str:
    """The trace page (at ``span_id``); a form's ``list`` / ``i`` keep the list it was
    opened from, so previous / next and "← Traces" survive a save."""
    params = {"span": span_id or ""}
    for key in ("list", "i"):
        params[key] = (form or {}).get(key, "")
    query = urlencode({k: v for k, v in params.items() if v})
    url = f"/traces/{quote(trace_id)}" + (f"?{query}" if query else "")
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
    response = RedirectResponse(trace_url(trace_id, parsed.span_id, "assessments", form), 303)
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
    response = RedirectResponse(trace_url(trace_id, current.span_id, "assessments", form), 303)
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
    return RedirectResponse(
        trace_url(trace_id, form.get("span_id") or None, "assessments", form), 303
    )


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
        lambda: trace_model(
            ctx,
            trace,
            form.get("span_id"),
            form=form,
            form_error=error.message,
            list_param=form.get("list") or None,
            index_param=form.get("i") or None,
        )
    )
    return render(request, "trace.html", model, 400)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/traces", traces_page, methods=["GET"]),
    Route("/traces/{trace_id}", trace_page, methods=["GET"]),
    Route("/traces/{trace_id}/assessments", create_assessment, methods=["POST"]),
    Route("/traces/{trace_id}/assessments", form_url, methods=["GET"]),
    Route("/traces/{trace_id}/assessments/{aid}/edit", form_url, methods=["GET"]),
    Route("/traces/{trace_id}/assessments/{aid}/delete", form_url, methods=["GET"]),
    Route("/traces/{trace_id}/assessments/{aid}/edit", edit_assessment, methods=["POST"]),
    Route("/traces/{trace_id}/assessments/{aid}/delete", delete_assessment, methods=["POST"]),
]
