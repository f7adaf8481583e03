"""``/api/records``: the records store over REST (``store/records.py``), for ``RemoteStore``.

- ``POST /api/records`` ``{"records": [{kind, id, data, parent?, expected_version?,
  deleted?}], "author"?}`` appends one atomic batch: 201 with the stored records; 409 when an
  ``expected_version`` does not hold (the body says which record and both versions); 404 for
  a deletion of a missing record; 400 for bad input; 413 above the batch limit
  (``max_body_bytes``, applied by ``server.limits``).
- ``GET /api/records/{kind}?parent=&as_of=&include_deleted=&changed_after=&limit=&page_token=``
  lists the latest versions by id, one page at a time, all pages as of the first page's
  sequence (``changed_after``: only records written after that sequence).
- ``GET /api/records/{kind}/{id}?version=`` one version; ``.../history`` every version.

Handlers raise; ``server.errors`` turns what they raise into the error response (a
``ConflictError`` into the 409 above).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.server._http import HTTPError, query_bool, query_int
from otelfeedback.server.context import get_context
from otelfeedback.store.record_checks import check_id, check_kind
from otelfeedback.store.records import Record, RecordWrite, json_text

MAX_PAGE = 5000
#: The batch write, limited to ``max_body_bytes`` like an OTLP request.
BATCH_PATH = "/api/records"


def records_response(data: Any, status: int = 200) -> Response:
    """JSON that keeps every string a record can hold (lone surrogates as escapes)."""
    return Response(
        json_text(data).encode("utf-8"), status_code=status, media_type="application/json"
    )


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object body (the batch limit is ``server.limits``'), ``application/json``
    only (415); malformed, too deep or non-object bodies are 400. Lone surrogates are kept:
    a record may hold any string."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPError(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError) as exc:
        raise HTTPError(400, "INVALID_JSON", f"the body is not JSON: {exc}"[:300]) from None
    if not isinstance(data, dict):
        raise HTTPError(400, "INVALID_JSON", "expected a JSON object")
    return data


def _writes(body: dict[str, Any]) -> tuple[list[RecordWrite], str | None]:
    unknown = sorted(set(body) - {"records", "author"})
    if unknown:
        raise InvalidArgumentError(unknown[0], "unknown field; expected records and author")
    raw = body.get("records")
    if not isinstance(raw, list):
        raise InvalidArgumentError("records", "expected a list of writes")
    writes = [RecordWrite.from_dict(item, f"records[{i}]") for i, item in enumerate(raw)]
    return writes, body.get("author")


async def append(request: Request) -> Response:
    """``POST /api/records``: append one batch."""
    ctx = get_context(request)
    writes, author = _writes(await read_json(request))
    stored = await run_in_threadpool(lambda: ctx.store.append_records(writes, author=author))
    return records_response({"records": [r.to_dict() for r in stored]}, 201)


def _page_token(after: str, as_of: int) -> str:
    raw = json.dumps({"after": after, "as_of": as_of}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str) -> tuple[str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, as_of = data["after"], data["as_of"]
        if not isinstance(after, str) or isinstance(as_of, bool) or not isinstance(as_of, int):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise InvalidArgumentError("page_token", f"not a page token: {token!r:.80}") from None
    return after, as_of


def _query_sequence(request: Request, name: str = "as_of") -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise InvalidArgumentError(name, f"expected a sequence number, got {raw!r:.40}")
    return int(raw)


def _listing(request: Request) -> dict[str, Any]:
    ctx = get_context(request)
    kind = check_kind(request.path_params["kind"])
    q = request.query_params
    parent = q.get("parent") or None
    as_of = _query_sequence(request)
    after = None
    if q.get("page_token"):
        after, as_of = _read_token(q["page_token"])
    limit = query_int(request, "limit", 1000, MAX_PAGE)
    found, as_of = ctx.store.list_records_page(
        kind,
        parent=parent,
        as_of=as_of,
        include_deleted=query_bool(request, "include_deleted", False),
        after=after,
        limit=limit,
        changed_after=_query_sequence(request, "changed_after"),
    )
    token = _page_token(found[-1].id, as_of) if len(found) == limit else None
    return {"records": [r.to_dict() for r in found], "as_of": as_of, "next_page_token": token}


async def list_records(request: Request) -> Response:
    """``GET /api/records/{kind}``: one page of the latest versions, by id."""
    return records_response(await run_in_threadpool(_listing, request))


def _one(request: Request) -> Record:
    ctx = get_context(request)
    kind = check_kind(request.path_params["kind"])
    record_id = check_id(request.path_params["record_id"])
    raw = request.query_params.get("version")
    version = None
    if raw:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) < 1:
            raise InvalidArgumentError("version", f"expected a positive int, got {raw!r:.40}")
        version = int(raw)
    return ctx.store.get_record(kind, record_id, version)


async def get_record(request: Request) -> Response:
    """``GET /api/records/{kind}/{record_id}?version=``"""
    record = await run_in_threadpool(_one, request)
    return records_response(record.to_dict())


async def history(request: Request) -> Response:
    """``GET /api/records/{kind}/{record_id}/history``: every version, oldest first."""
    ctx = get_context(request)
    kind = check_kind(request.path_params["kind"])
    record_id = check_id(request.path_params["record_id"])
    found = await run_in_threadpool(ctx.store.record_history, kind, record_id)
    return records_response({"records": [r.to_dict() for r in found]})


routes = [
    Route(BATCH_PATH, append, methods=["POST"]),
    Route("/api/records/{kind}", list_records, methods=["GET"]),
    Route("/api/records/{kind}/{record_id}", get_record, methods=["GET"]),
    Route("/api/records/{kind}/{record_id}/history", history, methods=["GET"]),
]
