"""Helpers shared by the route modules: JSON responses, errors, request bodies."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from otelfeedback.errors import FilterSyntaxError, InvalidArgumentError, NotFoundError


class HTTPError(Exception):
    """An error with an HTTP status; rendered as JSON (API) or as a page (UI)."""

    def __init__(self, status: int, code: str, message: str, argument: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.argument = argument

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.argument is not None:
            error["argument"] = self.argument
        return {"error": error}


def http_error(exc: Exception) -> HTTPError:
    """Map our exceptions to HTTP errors (400 bad input, 404 unknown)."""
    if isinstance(exc, HTTPError):
        return exc
    if isinstance(exc, FilterSyntaxError):
        return HTTPError(400, "INVALID_FILTER", str(exc), "filter")
    if isinstance(exc, InvalidArgumentError):
        return HTTPError(400, "INVALID_ARGUMENT", str(exc), exc.argument)
    if isinstance(exc, NotFoundError):
        return HTTPError(404, "NOT_FOUND", str(exc).strip("'\""))
    raise exc


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str, allow_nan=False)
    return Response(body.encode("utf-8"), status_code=status, media_type="application/json")


def error_response(exc: Exception) -> Response:
    error = http_error(exc)
    return json_response(error.to_dict(), error.status)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body; 415 for another content type, 400 if malformed."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPError(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPError(400, "INVALID_JSON", f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "INVALID_JSON", "expected a JSON object")
    return data


def query_int(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPError(400, "INVALID_ARGUMENT", f"{name}: expected an integer", name) from None
    if not 1 <= value <= maximum:
        raise HTTPError(
            400, "INVALID_ARGUMENT", f"{name}: expected 1 to {maximum}, got {value}", name
        )
    return value


def query_bool(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise HTTPError(400, "INVALID_ARGUMENT", f"{name}: expected true or false", name)
