"""The Datasets section of the UI: the list, a dataset page (records of a version, version
history, a diff form) and the diff page, each with a JSON twin (``?format=json``); and the
"Add to dataset" form posted from the traces table and the trace page (CSRF-checked)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from otelfeedback.datasets import catalog
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.server.api_datasets import add_traces, diff_of, query_count, query_version
from otelfeedback.server.api_records import records_response
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.server.forms import check_csrf
from otelfeedback.server.labeling_forms import last
from otelfeedback.server.rendering import render
from otelfeedback.server.review_form import read as read_form
from otelfeedback.server.selection import SelectionAction, selected_trace_ids

PAGE_SIZE = 100


def dataset_url(dataset_id: str, version: int | None = None, **query: Any) -> str:
    params = {"version": version, **query}
    text = urlencode({k: v for k, v in params.items() if v is not None})
    return f"/datasets/{quote(dataset_id)}" + (f"?{text}" if text else "")


def _wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


# -- list ---------------------------------------------------------------------------------------
async def datasets_page(request: Request) -> Response:
    ctx = get_context(request)
    found = await run_in_threadpool(catalog.list_all, ctx.store)
    if _wants_json(request):
        return records_response({"datasets": [d.to_dict() for d in found]})
    return render(request, "datasets.html", {"datasets": found, "dataset_url": dataset_url})


# -- one dataset --------------------------------------------------------------------------------
def _dataset_model(ctx: ServerContext, request: Request) -> dict[str, Any]:
    ds = catalog.get(ctx.store, request.path_params["ref"], query_version(request))
    page = max(1, query_count(request, "page", 1, 10**6))
    records = ds.records
    pages = max(1, -(-len(records) // PAGE_SIZE))
    shown = records[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {
        "ds": ds,
        "records": shown,
        "page": page,
        "pages": pages,
        "first_index": (page - 1) * PAGE_SIZE,
        "versions": list(reversed(ds.versions())),
        "dataset_url": dataset_url,
    }


async def dataset_page(request: Request) -> Response:
    ctx = get_context(request)
    model = await run_in_threadpool(_dataset_model, ctx, request)
    if _wants_json(request):
        ds = model["ds"]
        return records_response(
            {
                "dataset": ds.to_dict(),
                "page": model["page"],
                "pages": model["pages"],
                "records": [r.to_dict() for r in model["records"]],
                "versions": [v.to_dict() for v in model["versions"]],
            }
        )
    return render(request, "dataset.html", model)


async def diff_page(request: Request) -> Response:
    ctx = get_context(request)
    diff, ds = await run_in_threadpool(
        lambda: (diff_of(ctx, request), catalog.get(ctx.store, request.path_params["ref"]))
    )
    if _wants_json(request):
        return records_response(diff.to_dict())
    model = {"diff": diff, "ds": ds, "dataset_url": dataset_url}
    return render(request, "dataset_diff.html", model)


# -- creating, and "Add to dataset" ----------------------------------------------------------
async def create_dataset(request: Request) -> Response:
    """``POST /datasets``: the create form of the datasets page (CSRF-checked)."""
    ctx = get_context(request)
    form = await read_form(request)
    check_csrf(request, {k: v[-1] for k, v in form.items()})
    name = last(form, "name").strip()
    description = last(form, "description").strip() or None
    ds = await run_in_threadpool(lambda: catalog.create(ctx.store, name, description=description))
    return RedirectResponse(dataset_url(ds.dataset_id, ds.version), 303)


def selection_action(ctx: ServerContext) -> SelectionAction:
    """ "Add to dataset" for the traces table's selection and the trace page."""
    return SelectionAction(
        key="dataset",
        label="Add to dataset",
        url="/datasets/add-traces",
        choice_name="dataset",
        choice_label="Dataset",
        choices=[(d.dataset_id, d.name) for d in catalog.list_all(ctx.store)],
        empty_label="Create a dataset to add traces to",
        empty_url="/datasets#create-dataset",
    )


async def add_to_dataset(request: Request) -> Response:
    """``POST /datasets/add-traces``: merge the selected traces (root inputs and outputs,
    valid expectations) into the chosen dataset; shows the version it made."""
    ctx = get_context(request)
    form = await read_form(request)
    check_csrf(request, {k: v[-1] for k, v in form.items()})
    ref = last(form, "dataset").strip()
    if not ref:
        raise InvalidArgumentError("dataset", "choose a dataset")
    ids = await run_in_threadpool(selected_trace_ids, ctx, form)
    ds = await run_in_threadpool(add_traces, ctx.store, ref, ids, False)
    return RedirectResponse(dataset_url(ds.dataset_id, ds.version), 303)


routes = [
    Route("/datasets", datasets_page, methods=["GET"]),
    Route("/datasets", create_dataset, methods=["POST"]),
    Route("/datasets/add-traces", add_to_dataset, methods=["POST"]),
    Route("/datasets/{ref}", dataset_page, methods=["GET"]),
    Route("/datasets/{ref}/diff", diff_page, methods=["GET"]),
]
