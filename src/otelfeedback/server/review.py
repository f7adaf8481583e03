"""The review app: ``/review/<signed link>``, where experts label a session's traces.

No account: the link names the session and the reviewer and is signed (``labeling/links.py``).
It opens these pages only (the security middleware lets ``/review/`` through without the
server token; everything else still needs it):

- ``GET /review/<token>`` — a session's shared link asks who is reviewing (a name, or one of
  the assigned users) and moves on to that reviewer's own link; a reviewer's link goes to
  their next item.
- ``GET /review/<token>/items/<trace id>`` — one item: the conversation, retrieved documents,
  the trace's assessments, one control per label schema (``?format=json``: its JSON twin).
- ``POST`` the same URL — ``action=submit`` (labels) or ``skip``; then the next item, or the
  done page. A bad answer re-renders the item with the message and what was typed.
- ``GET /review/<token>/done`` — what the reviewer did.

A link that is tampered with, foreign, expired or revoked gets a 403 page saying which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from otelfeedback.errors import InvalidArgumentError, NotFoundError
from otelfeedback.labeling import links, reviews
from otelfeedback.labeling._store import using_store
from otelfeedback.labeling.board import Board, BoardCache
from otelfeedback.labeling.schemas import LabelSchema
from otelfeedback.labeling.sessions import LabelingSession, check_reviewer, load_session
from otelfeedback.server import forms, review_form, review_view
from otelfeedback.server._http import HTTPError, json_response
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.server.rendering import render
from otelfeedback.store.entities import Trace

SERVICE_NAME = "otelfeedback-review"


@dataclass
class Opened:
    """A verified link: its session, schemas, reviewer and the session's board."""

    token: str
    claims: links.LinkClaims
    session: LabelingSession
    schemas: list[LabelSchema]
    board: Board

    @property
    def reviewer(self) -> str:
        return self.claims.reviewer

    def url(self, suffix: str = "") -> str:
        return f"/review/{self.token}{suffix}"

    def item_url(self, trace_id: str) -> str:
        return self.url(f"/items/{quote(trace_id)}")


def boards(ctx: ServerContext) -> BoardCache:
    """The app's boards of labeling sessions (the review app and the Labeling section)."""
    cache = ctx.extra.get("labeling_boards")
    if cache is None:
        cache = ctx.extra["labeling_boards"] = BoardCache()
    assert isinstance(cache, BoardCache)
    return cache


def open_link(ctx: ServerContext, token: str) -> Opened:
    """Verify ``token`` and load what its pages need.

    Raises:
        links.LinkError: the link does not open (the page is a 403).
    """
    claims = links.verify(ctx.store, token)
    try:
        session = load_session(ctx.store, claims.session_id)
    except NotFoundError:
        raise links.LinkError("invalid", "This labeling session no longer exists.") from None
    if claims.reviewer and session.assigned_users and claims.reviewer not in session.assigned_users:
        raise links.LinkError("revoked", "You are no longer assigned to this labeling session.")
    schemas = session.schemas(ctx.store)
    board = boards(ctx).get(ctx.store, session.labeling_session_id)
    return Opened(token, claims, session, schemas, board)


def _wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


def link_refused(exc: links.LinkError) -> HTTPError:
    """A link that does not open, as the 403 the error handlers render (in the review app's
    own layout: ``errors.error_response``)."""
    error = HTTPError(403, "LINK_REFUSED", exc.message)
    error.details = {"reason": exc.reason}
    return error


async def _opened(request: Request) -> Opened:
    ctx = get_context(request)
    try:
        return await run_in_threadpool(open_link, ctx, request.path_params["token"])
    except links.LinkError as exc:
        raise link_refused(exc) from None


def _next_url(opened: Opened, after: str | None = None) -> str:
    with opened.board.lock:
        following = opened.board.next_for(opened.reviewer, opened.session.reviewers_per_item, after)
    return opened.item_url(following) if following else opened.url("/done")


# -- the entry and the reviewer's name ----------------------------------------------------
async def home(request: Request) -> Response:
    opened = await _opened(request)
    if opened.reviewer:
        return RedirectResponse(_next_url(opened), 303)
    model = {"opened": opened, "form": {}, "form_error": None}
    if _wants_json(request):
        return json_response(
            {
                "session": _session_dict(opened),
                "needs_reviewer": True,
                "assigned_users": opened.session.assigned_users,
            }
        )
    return render(request, "review/start.html", model)


async def start(request: Request) -> Response:
    opened = await _opened(request)
    form = await forms.read_form(request)
    forms.check_csrf(request, form)
    if opened.reviewer:
        raise HTTPError(400, "INVALID_ARGUMENT", "This link already names its reviewer.")
    try:
        reviewer = check_reviewer(opened.session, form.get("reviewer", ""), "reviewer")
    except InvalidArgumentError as exc:  # the form again, with the message
        message = str(exc).removeprefix(f"{exc.argument}: ")
        model = {"opened": opened, "form": form, "form_error": message}
        return render(request, "review/start.html", model, 400)
    store = get_context(request).store
    token = await run_in_threadpool(
        links.sign, store, opened.session.labeling_session_id, reviewer, opened.claims.expires_s
    )
    return RedirectResponse(f"/review/{token}", 303)


# -- one item ----------------------------------------------------------------------------------
def _item_model(ctx: ServerContext, opened: Opened, trace_id: str, **extra: Any) -> dict[str, Any]:
    board, reviewer = opened.board, opened.reviewer
    with board.lock:
        if trace_id not in board.items:
            raise NotFoundError(f"trace {trace_id} is not in this labeling session")
        rank = board.rank[trace_id]
        total = len(board.order)
        previous = board.order[rank - 1] if rank > 0 else None
        following = board.order[rank + 1] if rank + 1 < total else None
        mine = board.review(trace_id, reviewer)
        done, skipped = board.counts_for(reviewer)
        done_count = board.done_count(trace_id)
    trace: Trace = ctx.store.get_trace(trace_id)
    return {
        "opened": opened,
        "session": opened.session,
        "schemas": opened.schemas,
        "trace": trace,
        "trace_id": trace_id,
        "position": rank + 1,
        "total": total,
        "previous_url": opened.item_url(previous) if previous else None,
        "next_url": opened.item_url(following) if following else None,
        "mine": mine,
        "done": done,
        "skipped": skipped,
        "item_full": done_count >= opened.session.reviewers_per_item and mine is None,
        "view": review_view.exchange(trace),
        "assessments": review_view.visible_assessments(
            trace, opened.session.labeling_session_id, reviewer
        ),
        "values": extra.get("values") or review_form.current_values(opened.schemas, mine),
        "errors": extra.get("errors") or {},
        "form_error": extra.get("form_error"),
    }


def _item_json(model: dict[str, Any]) -> dict[str, Any]:
    mine = model["mine"]
    return {
        "session": _session_dict(model["opened"]),
        "reviewer": model["opened"].reviewer,
        "item": {
            "trace_id": model["trace_id"],
            "position": model["position"],
            "total": model["total"],
            "your_review": mine.to_dict() if mine else None,
        },
        "progress": {"done": model["done"], "skipped": model["skipped"]},
        "schemas": [s.to_dict() for s in model["schemas"]],
        "conversation": review_view.exchange_dict(model["view"]),
        "assessments": [a.to_dict() for a in model["assessments"]],
        "links": {"previous": model["previous_url"], "next": model["next_url"]},
    }


def _session_dict(opened: Opened) -> dict[str, Any]:
    session = opened.session
    return {
        "name": session.name,
        "instructions": session.instructions,
        "reviewers_per_item": session.reviewers_per_item,
    }


async def item(request: Request) -> Response:
    opened = await _opened(request)
    if not opened.reviewer:
        return RedirectResponse(opened.url(), 303)
    ctx = get_context(request)
    trace_id = request.path_params["trace_id"]
    model = await run_in_threadpool(_item_model, ctx, opened, trace_id)
    if _wants_json(request):
        return json_response(_item_json(model))
    return render(request, "review/item.html", model)


def _save(
    ctx: ServerContext, opened: Opened, trace_id: str, action: str, labels: Any, comments: Any
) -> None:
    with using_store(ctx.store, service_name=SERVICE_NAME):
        if action == "skip":
            reviews.skip(ctx.store, opened.session, trace_id, opened.reviewer)
        else:
            reviews.submit(
                ctx.store,
                opened.session,
                trace_id,
                opened.reviewer,
                labels,
                comments,
                schemas=opened.schemas,
            )
    opened.board.refresh(ctx.store)


async def submit(request: Request) -> Response:
    opened = await _opened(request)
    if not opened.reviewer:
        return RedirectResponse(opened.url(), 303)
    ctx = get_context(request)
    trace_id = request.path_params["trace_id"]
    form = await review_form.read(request)
    forms.check_csrf(request, {k: v[-1] for k, v in form.items()})
    action = form.get("action", ["submit"])[-1]
    if action not in ("submit", "skip"):
        raise InvalidArgumentError("action", "expected submit or skip")
    labels, comments, values, errors = review_form.parse(opened.schemas, form)
    try:
        if errors:
            raise review_form.FormErrors(errors)
        await run_in_threadpool(_save, ctx, opened, trace_id, action, labels, comments)
    except review_form.FormErrors as exc:  # the item again, with the messages
        return await _form_failed(request, ctx, opened, trace_id, values, exc.errors, None)
    except InvalidArgumentError as exc:
        errors = review_form.errors_of(opened.schemas, exc)
        general = None if errors else str(exc).removeprefix(f"{exc.argument}: ")
        return await _form_failed(request, ctx, opened, trace_id, values, errors, general)
    return RedirectResponse(_next_url(opened, trace_id), 303)


async def _form_failed(
    request: Request,
    ctx: ServerContext,
    opened: Opened,
    trace_id: str,
    values: dict[str, Any],
    errors: dict[str, str],
    general: str | None,
) -> Response:
    model = await run_in_threadpool(
        lambda: _item_model(ctx, opened, trace_id, values=values, errors=errors, form_error=general)
    )
    if _wants_json(request):
        message = general or "; ".join(errors.values())
        return json_response({"error": {"code": "INVALID_ARGUMENT", "message": message}}, 400)
    return render(request, "review/item.html", model, 400)


# -- done --------------------------------------------------------------------------------------
async def done(request: Request) -> Response:
    opened = await _opened(request)
    if not opened.reviewer:
        return RedirectResponse(opened.url(), 303)
    board = opened.board
    with board.lock:
        labeled, skipped = board.counts_for(opened.reviewer)
        skipped_items = [
            (board.rank[t] + 1, t)
            for t in board.order
            if (r := board.review(t, opened.reviewer)) is not None and r.state != "done"
        ]
        remaining = board.next_for(opened.reviewer, opened.session.reviewers_per_item)
        total = len(board.order)
        first = board.order[0] if board.order else None
    model = {
        "opened": opened,
        "session": opened.session,
        "labeled": labeled,
        "skipped": skipped,
        "skipped_items": skipped_items,
        "remaining_url": opened.item_url(remaining) if remaining else None,
        "first_url": opened.item_url(first) if first else None,
        "total": total,
    }
    if _wants_json(request):
        return json_response(
            {
                "session": _session_dict(opened),
                "reviewer": opened.reviewer,
                "labeled": labeled,
                "skipped": skipped,
                "skipped_items": [t for _, t in skipped_items],
                "total": total,
                "remaining": remaining,
            }
        )
    return render(request, "review/done.html", model)


routes = [
    Route("/review/{token}", home, methods=["GET"]),
    Route("/review/{token}/start", start, methods=["POST"]),
    Route("/review/{token}/items/{trace_id}", item, methods=["GET"]),
    Route("/review/{token}/items/{trace_id}", submit, methods=["POST"]),
    Route("/review/{token}/done", done, methods=["GET"]),
]
