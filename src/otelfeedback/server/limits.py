"""The request body limit of the JSON API, the records API and the UI's forms.

Every route but the OTLP receiver (which has its own limit, checked again after gzip) reads
at most a limit of request body: ``max_api_body_bytes`` for the assessment API and the forms,
the batch limit ``max_body_bytes`` for ``POST /api/records``. A body over its limit is
refused with ``HTTPError(413)``, rendered by ``server.errors`` like any other error.

The server never holds more than the limit: past it, the rest of the body is read and thrown
away, so that a client that sends its whole body before reading the answer (most do) gets
the 413 rather than a reset connection; but only up to ``DRAIN_BYTES`` more. A body declared
(``Content-Length``) or streamed beyond that is refused at once and the connection closed.
"""

from __future__ import annotations

from collections.abc import Mapping

from otelfeedback.server._http import HTTPError
from otelfeedback.server.security import ASGIApp, Message, Receive, Scope, Send

#: Largest request body of the assessment API and the forms: room for the largest assessment
#: the SDK accepts (a value of 1,000,000 characters as JSON, escaped) several times over.
DEFAULT_MAX_API_BODY_BYTES = 8 * 1024 * 1024
#: Most bytes past the limit read and discarded so the client can read the 413.
DRAIN_BYTES = 64 * 1024 * 1024


class BodyLimitMiddleware:
    """Refuses request bodies over their path's limit (413): ``limits`` by exact path, else
    ``max_bytes``; paths in ``exempt`` enforce their own."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        limits: Mapping[str, int],
        exempt: frozenset[str],
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = dict(limits)
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in self.exempt:
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(path, self.max_bytes)
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                if declared - limit <= DRAIN_BYTES:
                    await _drain(receive, declared + 1)
                raise too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body", False):
                        await _drain(receive, DRAIN_BYTES)
                    raise too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


def too_large(limit: int) -> HTTPError:
    return HTTPError(
        413,
        "BODY_TOO_LARGE",
        f"the request body is larger than {limit} bytes: send smaller batches or values",
    )


async def _drain(receive: Receive, most: int) -> None:
    """Read and discard the rest of the body, at most ``most`` bytes."""
    drained = 0
    while drained <= most:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 20 else None
    return None
