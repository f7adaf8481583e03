"""How an error becomes a response, in one place: Starlette's exception handlers.

Route handlers raise; they never catch to build an error response themselves. The table
``ERROR_STATUS`` maps the project's exceptions (``otelfeedback.errors``) to a status and an
error code once:

==========================  ======  =====================
exception                   status  ``error.code``
==========================  ======  =====================
``FilterSyntaxError``       400     ``INVALID_FILTER``
``InvalidArgumentError``    400     ``INVALID_ARGUMENT``
``NotFoundError``           404     ``NOT_FOUND``
``ConflictError``           409     ``CONFLICT`` (+ kind, record_id, both versions)
``StoreWriteError``         503     ``STORE_UNAVAILABLE`` (the store's disk is full, ...)
any other of ours           500     ``INTERNAL``
==========================  ======  =====================

``HTTPError`` (``server._http``) carries its own status (401, 403, 413, 415, ...), and
Starlette's own ``HTTPException`` (an unknown route, a wrong method) is rendered the same
way. An error is JSON ``{"error": {"code", "message", "argument"?}}`` under ``/api/`` and for
``?format=json``, otherwise the HTML error page. A form post the SDK refuses (a 400)
re-renders the trace page with the message beside the form (``forms.FormRejected``, handled
in ``pages``).

Anything else is a bug: ``SecurityMiddleware`` answers it with a bare 500 that still carries
the security headers, and the server logs the traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from otelfeedback.errors import (
    ConflictError,
    FilterSyntaxError,
    InvalidArgumentError,
    NotFoundError,
    OtelFeedbackError,
    StoreWriteError,
)
from otelfeedback.server._http import HTTPError, json_response
from otelfeedback.server.rendering import render

logger = logging.getLogger("otelfeedback.server")

#: The project's exceptions as HTTP errors: (status, code), first match wins.
ERROR_STATUS: tuple[tuple[type[OtelFeedbackError], int, str], ...] = (
    (FilterSyntaxError, 400, "INVALID_FILTER"),
    (InvalidArgumentError, 400, "INVALID_ARGUMENT"),
    (NotFoundError, 404, "NOT_FOUND"),
    (ConflictError, 409, "CONFLICT"),
    (StoreWriteError, 503, "STORE_UNAVAILABLE"),
)

_STARLETTE_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def http_error(exc: Exception) -> HTTPError:
    """``exc`` as an ``HTTPError``: its status, code and message."""
    if isinstance(exc, HTTPError):
        return exc
    if isinstance(exc, HTTPException):
        code = _STARLETTE_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
        return HTTPError(exc.status_code, code, str(exc.detail))
    for kind, status, code in ERROR_STATUS:
        if isinstance(exc, kind):
            argument = exc.argument if isinstance(exc, InvalidArgumentError) else None
            if isinstance(exc, FilterSyntaxError):
                argument = "filter"
            message = str(exc)  # (quotes are the message's own: "... on trace 'abc'")
            error = HTTPError(status, code, message, argument)
            if isinstance(exc, ConflictError):
                error.details = {
                    "kind": exc.kind,
                    "record_id": exc.record_id,
                    "expected_version": exc.expected_version,
                    "actual_version": exc.actual_version,
                }
            return error
    return HTTPError(500, "INTERNAL", f"{type(exc).__name__}: {exc}")


def wants_json(request: Request) -> bool:
    """Whether errors for this request are JSON (the API, a page's JSON twin)."""
    return request.url.path.startswith("/api/") or request.query_params.get("format") == "json"


def error_response(request: Request, error: HTTPError, headers: Any = None) -> Response:
    """The error as JSON or as the HTML error page, whichever the request wants."""
    if wants_json(request):
        response = json_response(error.to_dict(), error.status)
    else:
        # the review app's pages have their own layout, with no way into the rest of the UI
        page = "review/error.html" if request.url.path.startswith("/review/") else "error.html"
        response = render(request, page, {"error": error}, error.status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


async def handle_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for ``HTTPError``, ``HTTPException`` and our errors."""
    headers = exc.headers if isinstance(exc, HTTPException) else None
    error = http_error(exc)
    if error.status >= 500:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(request, error, headers)


#: For ``Starlette(exception_handlers=...)`` (``pages`` adds the one for ``FormRejected``).
EXCEPTION_HANDLERS = {
    HTTPError: handle_error,
    HTTPException: handle_error,
    OtelFeedbackError: handle_error,
}
