"""The developer UI's Labeling section: sessions (list, create, one session with its items,
progress, reviewer links, agreement), and adding selected traces to a session. Every page
has a JSON twin (``?format=json``); forms are CSRF-checked. Label schemas: see
``labeling_schema_pages.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.labeling import agreement, items, links, progress
from otelfeedback.labeling._store import using_store
from otelfeedback.labeling.schemas import list_label_schemas
from otelfeedback.labeling.sessions import (
    LabelingSession,
    create_labeling_session,
    delete_labeling_session,
    list_labeling_sessions,
    load_session,
)
from otelfeedback.server import labeling_forms, review_form, selection
from otelfeedback.server._http import json_response, query_int
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.server.forms import check_csrf
from otelfeedback.server.rendering import render
from otelfeedback.server.review import boards

SERVICE_NAME = "otelfeedback-server"
ITEMS_PAGE = 100
MAX_DISAGREEMENTS = 50
T = TypeVar("T")


def _wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


async def scoped(ctx: ServerContext, fn: Callable[..., T], *args: Any) -> T:
    """Run a labeling function on the server's store, in the thread pool."""

    def call() -> T:
        with using_store(ctx.store, service_name=SERVICE_NAME):
            return fn(*args)

    return await run_in_threadpool(call)


def form_message(exc: InvalidArgumentError) -> str:
    """An argument error as the form shows it (the argument named, as the SDK says it)."""
    return str(exc)


def session_url(session: LabelingSession, **query: Any) -> str:
    url = f"/labeling/sessions/{quote(session.labeling_session_id)}"
    return url + ("?" + urlencode(query) if query else "")


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def read_checked(request: Request) -> dict[str, list[str]]:
    form = await review_form.read(request)
    check_csrf(request, {k: v[-1] for k, v in form.items()})
    return form


# -- the sessions -------------------------------------------------------------------------
def _sessions_model(ctx: ServerContext) -> dict[str, Any]:
    sessions = list_labeling_sessions()
    rows = [
        (s, progress.progress_of(ctx.store, s, boards(ctx).get(ctx.store, s.labeling_session_id)))
        for s in sessions
    ]
    return {"rows": rows, "schemas": list_label_schemas()}


async def sessions_page(request: Request, form: Any = None, error: str | None = None) -> Response:
    ctx = get_context(request)
    model = await scoped(ctx, _sessions_model, ctx)
    if _wants_json(request):
        return json_response(
            {
                "sessions": [{**s.to_dict(), "progress": p.to_dict()} for s, p in model["rows"]],
                "label_schemas": [s.to_dict() for s in model["schemas"]],
            }
        )
    model.update(form=form or {}, form_error=error)
    return render(request, "labeling/sessions.html", model, 400 if error else 200)


async def create_session(request: Request) -> Response:
    ctx = get_context(request)
    form = await read_checked(request)
    try:
        arguments = labeling_forms.session_arguments(form)
        session = await scoped(ctx, lambda: create_labeling_session(**arguments))
    except InvalidArgumentError as exc:  # the page again, with the message and the form
        return await sessions_page(request, form, form_message(exc))
    return RedirectResponse(session_url(session), 303)


# -- one session --------------------------------------------------------------------------------
def _session_model(ctx: ServerContext, request: Request, key: str) -> dict[str, Any]:
    store = ctx.store
    session = load_session(store, key)
    board = boards(ctx).get(store, session.labeling_session_id)
    size = query_int(request, "max_results", ITEMS_PAGE, 1000)
    page = query_int(request, "page", 1, 10**6)
    everything = progress.items_of(store, session, board)
    shown = everything[(page - 1) * size : page * size]
    infos = {}
    if shown:
        quoted = ", ".join(f"'{i.trace_id}'" for i in shown)
        for trace in store.search_traces(
            f"trace.trace_id IN ({quoted})", None, None, None, None, False
        ):
            infos[trace.info.trace_id] = trace.info
    base = base_url(request)
    shared = links.expiry_seconds(links.DEFAULT_LIFETIME, granularity=3600)
    user_expiry = links.expiry_seconds(links.DEFAULT_LIFETIME)
    sid = session.labeling_session_id
    report = agreement.report(store, session, board)
    return {
        "session": session,
        "schemas": session.schemas(store),
        "progress": progress.progress_of(store, session, board),
        "agreement": report,
        "max_disagreements": MAX_DISAGREEMENTS,
        "items": shown,
        "infos": infos,
        "reviewers": sorted(set(board.reviewers()))[:12],
        "page": page,
        "pages": max(1, -(-len(everything) // size)),
        "shared_link": links.link_url(base, links.sign(store, sid, "", shared)),
        "assigned_links": [
            (user, links.link_url(base, links.sign(store, sid, user, user_expiry)))
            for user in session.assigned_users
        ],
    }


def _session_json(model: dict[str, Any]) -> dict[str, Any]:
    return {
        "session": model["session"].to_dict(),
        "progress": model["progress"].to_dict(),
        "agreement": model["agreement"].to_dict(),
        "items": [i.to_dict() for i in model["items"]],
        "page": model["page"],
        "pages": model["pages"],
        "links": {
            "shared": model["shared_link"],
            "assigned": dict(model["assigned_links"]),
        },
    }


async def session_page(request: Request, **extra: Any) -> Response:
    ctx = get_context(request)
    key = request.path_params["session"]
    model = await scoped(ctx, _session_model, ctx, request, key)
    if _wants_json(request):
        return json_response(_session_json(model))
    model.update(new_link=None, link_error=None, added=request.query_params.get("added"))
    model.update(extra)
    return render(request, "labeling/session.html", model, 400 if extra.get("link_error") else 200)


async def make_link(request: Request) -> Response:
    ctx = get_context(request)
    form = await read_checked(request)
    session = await scoped(ctx, load_session, ctx.store, request.path_params["session"])
    reviewer = labeling_forms.last(form, "reviewer")
    try:
        days = labeling_forms.last(form, "days", "14").strip() or "14"
        if not (days.isascii() and days.isdigit()) or len(days) > 3:
            raise InvalidArgumentError("days", "Valid for: a number of days")
        url = await scoped(
            ctx, _reviewer_link, ctx, session, reviewer, int(days), base_url(request)
        )
    except InvalidArgumentError as exc:  # the page again, with the message
        return await session_page(request, link_error=form_message(exc))
    return await session_page(request, new_link=(reviewer, url))


def _reviewer_link(
    ctx: ServerContext, session: LabelingSession, reviewer: str, days: int, base: str
) -> str:
    from otelfeedback.labeling.sessions import check_reviewer

    user = check_reviewer(session, reviewer, "reviewer")
    expiry = links.expiry_seconds(days * 86400)
    return links.link_url(base, links.sign(ctx.store, session.labeling_session_id, user, expiry))


async def remove_items(request: Request) -> Response:
    ctx = get_context(request)
    form = await read_checked(request)
    session = await scoped(ctx, load_session, ctx.store, request.path_params["session"])
    ids = selection.selected_trace_ids(ctx, {"trace_id": form.get("trace_id", [])})
    await scoped(ctx, items.remove, ctx.store, session, items.trace_ids(ids))
    return RedirectResponse(session_url(session), 303)


async def delete_session(request: Request) -> Response:
    ctx = get_context(request)
    await read_checked(request)
    await scoped(ctx, delete_labeling_session, request.path_params["session"])
    return RedirectResponse("/labeling/sessions", 303)


# -- selected traces into a session -------------------------------------------------------------
def selection_action(ctx: ServerContext) -> selection.SelectionAction:
    """ "Add to labeling session" for the traces table and the trace page."""
    with using_store(ctx.store, service_name=SERVICE_NAME):
        sessions = list_labeling_sessions()
    return selection.SelectionAction(
        key="labeling",
        label="Add to labeling session",
        url="/labeling/add-traces",
        choice_name="session",
        choice_label="Labeling session",
        choices=[(s.labeling_session_id, s.name) for s in sessions],
        empty_label="Create a labeling session to add traces to",
        empty_url="/labeling/sessions#create-session",
    )


async def add_traces(request: Request) -> Response:
    ctx = get_context(request)
    form = await read_checked(request)
    session = await scoped(ctx, load_session, ctx.store, labeling_forms.last(form, "session"))
    ids = await run_in_threadpool(selection.selected_trace_ids, ctx, form)
    added = await scoped(ctx, items.add, ctx.store, session, items.trace_ids(ids))
    return RedirectResponse(session_url(session, added=added), 303)


async def labeling_home(request: Request) -> Response:
    return RedirectResponse("/labeling/sessions", 307)


routes = [
    Route("/labeling", labeling_home, methods=["GET"]),
    Route("/labeling/sessions", sessions_page, methods=["GET"]),
    Route("/labeling/sessions", create_session, methods=["POST"]),
    Route("/labeling/add-traces", add_traces, methods=["POST"]),
    Route("/labeling/sessions/{session}", session_page, methods=["GET"]),
    Route("/labeling/sessions/{session}/links", make_link, methods=["POST"]),
    Route("/labeling/sessions/{session}/remove", remove_items, methods=["POST"]),
    Route("/labeling/sessions/{session}/delete", delete_session, methods=["POST"]),
]
