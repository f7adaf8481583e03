"""Templates (Jinja2, autoescaped: trace content is untrusted) and the vendored static files.

Static files ship inside the package (``server/static/``) and are served under a URL that
contains a hash of their content (``/static/<hash>/app.css``), so browsers may cache them
forever and an upgrade is picked up at once. No CDN, no build step.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import Response

from otelfeedback.server import content, present, span_facts, traces_table
from otelfeedback.server.context import get_context
from otelfeedback.server.forms import reviewer_of
from otelfeedback.server.security import CSRF_COOKIE, new_csrf_token

STATIC_FILES = {
    "app.css": "text/css",
    "app.js": "text/javascript",
    "review.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}


@cache
def static_bytes(name: str) -> bytes:
    return resources.files("otelfeedback.server").joinpath("static").joinpath(name).read_bytes()


@cache
def static_version() -> str:
    digest = hashlib.sha256()
    for name in sorted(STATIC_FILES):
        digest.update(static_bytes(name))
    return digest.hexdigest()[:12]


def _query(base: dict[str, Any], **changes: Any) -> str:
    merged = {**base, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("otelfeedback.server", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        duration=present.duration,
        size=present.size,
        timestamp=present.timestamp,
        iso=present.iso,
        present_value=present.present_value,
        cell=present.cell,
        history=present.history,
        shorten=present.shorten,
        as_conversation=content.as_conversation,
        conversation_from_attributes=content.conversation_from_attributes,
        is_structured=content.is_structured,
        pretty=content.pretty,
        query=_query,
        chip_title=present.chip_title,
        assessments_of=present.assessments_of,
        money=span_facts.money,
        format_number=span_facts.format_number,
        assessment_condition=traces_table.assessment_condition,
        tag_condition=traces_table.tag_condition,
        trace_condition=traces_table.trace_condition,
    )
    env.filters["compact_json"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
    return env


def render(request: Request, template: str, model: dict[str, Any], status: int = 200) -> Response:
    """Render a page; gives the browser a CSRF cookie the first time."""
    csrf = request.cookies.get(CSRF_COOKIE)
    fresh = not csrf
    if fresh:
        csrf = new_csrf_token()
    ctx = get_context(request)
    html = (
        environment()
        .get_template(template)
        .render(
            **model,
            request=request,
            csrf_token=csrf,
            reviewer=reviewer_of(request),
            version=ctx.version,
            static_version=static_version(),
        )
    )
    response = Response(html, status_code=status, media_type="text/html; charset=utf-8")
    response.headers["cache-control"] = "no-store"
    if fresh:
        response.set_cookie(CSRF_COOKIE, csrf or "", httponly=True, samesite="strict")
    return response


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        return Response("not found\n", status_code=404, media_type="text/plain")
    response = Response(static_bytes(name), media_type=STATIC_FILES[name])
    if request.path_params["version"] == static_version():
        response.headers["cache-control"] = "public, max-age=31536000, immutable"
    return response
