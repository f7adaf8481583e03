"""One small HTTP client on the standard library, for our own background senders (the
OTLP/JSON exporter, the backend bridges): it returns every HTTP status as a response instead
of raising, and raises only ``OSError`` for a request that got no answer (refused, reset,
timed out)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Answers worth sending again later (the OTLP specification's retryable statuses).
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class HttpResponse:
    """A status with its body (bytes), its headers (names in lower case) and a way to read
    the body as JSON."""

    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def text(self, limit: int = 500) -> str:
        """The start of the body as text, for messages."""
        return self.body[:limit].decode("utf-8", errors="replace")


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in items}


def request(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    context: ssl.SSLContext | None = None,
) -> HttpResponse:
    """Send one request and return the answer, whatever its status.

    Raises:
        OSError: no answer (connection refused or reset, DNS failure, timeout).
    """
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return HttpResponse(resp.status, resp.read(), _lower(resp.headers.items()))
    except urllib.error.HTTPError as exc:
        with exc:
            data = exc.read() if exc.fp is not None else b""
        return HttpResponse(exc.code, data, _lower(exc.headers.items() if exc.headers else ()))
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, OSError):
            raise reason from None
        raise OSError(str(reason)) from None


def request_json(
    method: str,
    url: str,
    payload: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResponse:
    """``request`` with a JSON body (when ``payload`` is not None).

    Raises:
        OSError: no answer.
    """
    all_headers = {"accept": "application/json", **(headers or {})}
    data = None
    if payload is not None:
        data = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
        all_headers["content-type"] = "application/json"
    return request(method, url, data, all_headers, timeout)
