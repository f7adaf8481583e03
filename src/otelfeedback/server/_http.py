"""Helpers shared by the route modules: JSON responses, the HTTP error, request bodies and
query parameters, each checked so that bad input is a 4xx (see ``server.errors``)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from otelfeedback._internal.otlp_json.values import finite_json

#: Deepest nesting of arrays and objects accepted in a JSON request body.
MAX_JSON_DEPTH = 64
#: Longest integer query parameter, in digits (a page number, a page size).
_MAX_DIGITS = 18


class HTTPError(Exception):
    """An error with an HTTP status; rendered as JSON (API) or as a page (UI)."""

    def __init__(self, status: int, code: str, message: str, argument: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.argument = argument
        self.details: dict[str, Any] = {}  # more fields of the error object

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.argument is not None:
            error["argument"] = self.argument
        return {"error": {**error, **self.details}}


def json_response(data: Any, status: int = 200) -> Response:
    try:
        body = json.dumps(data, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:  # a NaN or infinite double (a valid attribute value)
        body = json.dumps(finite_json(data), ensure_ascii=False, default=str, allow_nan=False)
    return Response(body.encode("utf-8"), status_code=status, media_type="application/json")


def parse_json(raw: str | bytes) -> Any:
    """``json.loads(raw)``, also refusing what no store could take.

    Raises:
        ValueError: ``raw`` is not JSON, is nested deeper than ``MAX_JSON_DEPTH`` arrays and
            objects, or holds a lone surrogate (``"\\ud800"``: not Unicode text); the
            message says which.
    """
    try:
        data = json.loads(raw)
    except RecursionError:  # deeper than Python's parser goes
        raise ValueError(_TOO_DEEP) from None
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:  # iterative: the check must not recurse either
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(_TOO_DEEP)
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
    return data


_TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} arrays and objects"


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"a lone surrogate ({text[exc.start]!r}) in a string: strings must be Unicode text"
        ) from None


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body (``parse_json``'s rules).

    Raises:
        HTTPError: 415 for another content type; 400 for a body that is not a JSON object
            or that ``parse_json`` refuses.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPError(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
    try:
        data = parse_json(await request.body())
    except ValueError as exc:  # UnicodeDecodeError included
        raise HTTPError(400, "INVALID_JSON", f"the body is not acceptable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "INVALID_JSON", "expected a JSON object")
    return data


def query_int(request: Request, name: str, default: int, maximum: int) -> int:
    """The integer query parameter ``name`` (ASCII digits), ``default`` when absent.

    Raises:
        HTTPError: 400 for anything but 1 to ``maximum``.
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS):
        raise HTTPError(
            400, "INVALID_ARGUMENT", f"{name}: expected an integer, got {raw[:40]!r}", name
        )
    value = int(raw)
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
