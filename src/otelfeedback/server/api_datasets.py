"""``/api/datasets``: evaluation datasets over REST (``otelfeedback.datasets`` on the
server's store). A dataset is named by its name or its id (``d-...``) in the path.

- ``GET /api/datasets``; ``POST /api/datasets`` ``{name, tags?, description?}`` (201).
- ``GET /api/datasets/{ref}?version=N``; ``DELETE /api/datasets/{ref}`` (204).
- ``GET /api/datasets/{ref}/records?version=&offset=&limit=``: one page of a version.
- ``POST /api/datasets/{ref}/records`` ``{records: [...]}``: merge (a new version).
- ``POST /api/datasets/{ref}/traces`` ``{trace_ids: [...]}``: merge stored traces.
- ``POST /api/datasets/{ref}/records/delete`` ``{record_ids: [...]}``.
- ``GET /api/datasets/{ref}/versions``; ``GET /api/datasets/{ref}/diff?from=&to=``.

Handlers raise; ``server.errors`` turns what they raise into the error response. Bodies are
read like the records API's (``api_records.read_json``: any string a record may hold), within
the API body limit (``max_api_body_bytes``).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback.assessments import validation as v
from otelfeedback.datasets import catalog
from otelfeedback.datasets.dataset import Dataset
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.server.api_records import read_json, records_response
from otelfeedback.server.context import ServerContext, get_context
from otelfeedback.store.base import TraceStore

MAX_RECORDS_PAGE = 5000


def query_version(request: Request, name: str = "version") -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise InvalidArgumentError(name, f"expected a version number, got {raw!r:.40}")
    return int(raw)


def query_count(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) > maximum:
        raise InvalidArgumentError(name, f"expected 0 to {maximum}, got {raw!r:.40}")
    return int(raw)


def dataset_of(ctx: ServerContext, request: Request) -> Dataset:
    """The dataset named in the path, at ``?version=`` (default: the latest)."""
    return catalog.get(ctx.store, request.path_params["ref"], query_version(request))


def get_or_create(store: TraceStore, name: str) -> Dataset:
    """The dataset with this name or id; a new one with this name when there is none."""
    try:
        return catalog.get(store, name)
    except LookupError:
        return catalog.create(store, name)


def add_traces(store: TraceStore, ref: str, trace_ids: Any, create: bool) -> Dataset:
    """Merge stored traces (inputs, outputs, expectations) into a dataset.

    Raises:
        InvalidArgumentError: no trace ids, or a malformed one (``trace_ids[i]``).
        NotFoundError: a trace or the dataset (unless ``create``) does not exist.
    """
    if not isinstance(trace_ids, list) or not trace_ids:
        raise InvalidArgumentError("trace_ids", "expected a non-empty list of trace ids")
    ids = []
    for i, trace_id in enumerate(trace_ids):
        try:
            ids.append(v.check_trace_id(trace_id))
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"trace_ids[{i}]", str(exc)) from None
    if create and not catalog.DATASET_ID.fullmatch(ref):
        catalog.check_name(ref)
    traces = [store.get_trace(trace_id) for trace_id in dict.fromkeys(ids)]
    ds = get_or_create(store, ref) if create else catalog.get(store, ref)
    return ds.merge_records(traces)


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidArgumentError(
            unknown[0], f"unknown field; expected {', '.join(sorted(allowed))}"
        )


# -- routes ----------------------------------------------------------------------------------
async def list_all(request: Request) -> Response:
    ctx = get_context(request)
    found = await run_in_threadpool(catalog.list_all, ctx.store)
    return records_response({"datasets": [d.to_dict() for d in found]})


async def create(request: Request) -> Response:
    ctx = get_context(request)
    body = await read_json(request)
    _only(body, {"name", "tags", "description"})
    ds = await run_in_threadpool(
        lambda: catalog.create(
            ctx.store,
            body.get("name"),  # type: ignore[arg-type]  # checked by create
            tags=body.get("tags"),
            description=body.get("description"),
        )
    )
    return records_response(ds.to_dict(), 201)


async def get(request: Request) -> Response:
    ctx = get_context(request)
    ds = await run_in_threadpool(dataset_of, ctx, request)
    return records_response(ds.to_dict())


async def delete(request: Request) -> Response:
    ctx = get_context(request)
    await run_in_threadpool(catalog.delete, ctx.store, request.path_params["ref"])
    return Response(status_code=204)


def _records_page(ctx: ServerContext, request: Request) -> dict[str, Any]:
    ds = dataset_of(ctx, request)
    offset = query_count(request, "offset", 0, 10**9)
    limit = query_count(request, "limit", 1000, MAX_RECORDS_PAGE) or 1000
    records = ds.records
    page = records[offset : offset + limit]
    more = offset + limit < len(records)
    return {
        "dataset": ds.to_dict(),
        "records": [r.to_dict() for r in page],
        "next_offset": offset + limit if more else None,
    }


async def records(request: Request) -> Response:
    ctx = get_context(request)
    data = await run_in_threadpool(_records_page, ctx, request)
    return records_response(data)


async def merge(request: Request) -> Response:
    ctx = get_context(request)
    body = await read_json(request)
    _only(body, {"records"})
    if "records" not in body:
        raise InvalidArgumentError("records", "required: a list of records")

    def run() -> Dataset:
        return catalog.get(ctx.store, request.path_params["ref"]).merge_records(body["records"])

    ds = await run_in_threadpool(run)
    return records_response(ds.to_dict())


async def merge_traces(request: Request) -> Response:
    ctx = get_context(request)
    body = await read_json(request)
    _only(body, {"trace_ids"})
    ref, ids = request.path_params["ref"], body.get("trace_ids")
    ds = await run_in_threadpool(add_traces, ctx.store, ref, ids, False)
    return records_response(ds.to_dict())


async def delete_records(request: Request) -> Response:
    ctx = get_context(request)
    body = await read_json(request)
    _only(body, {"record_ids"})
    if not isinstance(body.get("record_ids"), list):
        raise InvalidArgumentError("record_ids", "expected a list of record ids")

    def run() -> tuple[int, Dataset]:
        ds = catalog.get(ctx.store, request.path_params["ref"])
        return ds.delete_records(body["record_ids"]), ds

    count, ds = await run_in_threadpool(run)
    return records_response({"deleted": count, "dataset": ds.to_dict()})


async def versions(request: Request) -> Response:
    ctx = get_context(request)
    found = await run_in_threadpool(
        lambda: catalog.get(ctx.store, request.path_params["ref"]).versions()
    )
    return records_response({"versions": [version.to_dict() for version in found]})


def diff_of(ctx: ServerContext, request: Request) -> Any:
    ds = catalog.get(ctx.store, request.path_params["ref"])
    to_version = query_version(request, "to")
    return ds.diff(query_version(request, "from"), ds.version if to_version is None else to_version)


async def diff(request: Request) -> Response:
    ctx = get_context(request)
    result = await run_in_threadpool(diff_of, ctx, request)
    return records_response(result.to_dict())


routes = [
    Route("/api/datasets", list_all, methods=["GET"]),
    Route("/api/datasets", create, methods=["POST"]),
    Route("/api/datasets/{ref}", get, methods=["GET"]),
    Route("/api/datasets/{ref}", delete, methods=["DELETE"]),
    Route("/api/datasets/{ref}/records", records, methods=["GET"]),
    Route("/api/datasets/{ref}/records", merge, methods=["POST"]),
    Route("/api/datasets/{ref}/records/delete", delete_records, methods=["POST"]),
    Route("/api/datasets/{ref}/traces", merge_traces, methods=["POST"]),
    Route("/api/datasets/{ref}/versions", versions, methods=["GET"]),
    Route("/api/datasets/{ref}/diff", diff, methods=["GET"]),
]
