"""Security for the server: loopback-only hosts, the access token, cross-site requests, headers.

One ASGI middleware in front of every route:

- **Host check.** Without a token the server only answers requests whose ``Host`` header
  names a loopback address exactly (``localhost``, an IPv4 literal in 127.0.0.0/8, ``[::1]``,
  each with an optional port), so a web page cannot reach it through DNS rebinding: a page on
  ``127.attacker.test`` or ``localhost.attacker.test`` that the attacker's DNS points at
  127.0.0.1 still sends its own name as the Host and is refused (421). With a token, the
  configured public names (``public_hosts``) are answered too; with a token and no public
  names, any Host is (the token guards the server then).
- **Token.** With a token (required to bind a non-loopback address) every request must carry
  it: ``Authorization: Bearer TOKEN`` (API clients, OTLP exporters), or the cookie the UI sets
  after one visit to ``/?token=TOKEN``. The policy's ``public_prefixes`` are exempt: the
  review app (``/review/``, which checks its own signed links) and the static files.
- **Cross-site requests.** Unsafe methods (POST, PUT, PATCH, DELETE) coming from another site
  (``Sec-Fetch-Site: cross-site``/``same-site`` or an ``Origin`` that is not this server) are
  refused. HTML forms also carry a CSRF token (``csrf_token`` + cookie, checked by the form
  handlers); JSON endpoints accept only ``application/json``, which a cross-site form cannot
  send.
- **Headers.** A strict Content-Security-Policy (scripts only from our own static files, no
  inline script), ``nosniff``, no framing, no referrer to other sites — on every response,
  refusals and the 500 of an unexpected error included.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "otelfeedback_token"
CSRF_COOKIE = "otelfeedback_csrf"
CSRF_FIELD = "csrf_token"
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_PORT = re.compile(r"[0-9]{0,5}")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def is_loopback(name: str) -> bool:
    """Whether ``name`` (a host name or address, without port; IPv6 bare or in brackets) is a
    loopback address exactly: ``localhost``, a dotted-quad IPv4 literal in 127.0.0.0/8, or
    ``::1``. A name that merely starts like one (``127.0.0.1.nip.io``) is not."""
    name = name.lower()
    if name == "localhost":
        return True
    if _IPV4.fullmatch(name):
        try:
            return ipaddress.IPv4Address(name).is_loopback
        except ValueError:  # an octet over 255, a leading zero
            return False
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if ":" in name and name.isascii():
        try:
            return ipaddress.IPv6Address(name).is_loopback
        except ValueError:
            return False
    return False


def host_name(host_header: str) -> str | None:
    """The name in a ``Host`` header (``name``, ``name:port``, ``[v6]``, ``[v6]:port``),
    lower-cased, IPv6 in brackets; None when the header is malformed."""
    if host_header.startswith("["):
        name, _, rest = host_header.partition("]")
        name += "]"
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        name, _, port = host_header.partition(":")
    if not name or not _PORT.fullmatch(port):
        return None
    return name.lower()


@dataclass(frozen=True)
class SecurityPolicy:
    """``token``: required on every request when set. ``loopback_only``: refuse requests
    whose Host is not a loopback address (the default when there is no token).
    ``public_hosts``: names answered besides loopback ones (lower case; only with a token);
    when set, the Host check is on whatever ``loopback_only`` says."""

    token: str | None = None
    loopback_only: bool = True
    public_hosts: frozenset[str] = frozenset()
    #: Paths that need no token (they authorise requests themselves, or are public).
    public_prefixes: tuple[str, ...] = ()

    def host_allowed(self, host_header: str) -> bool:
        """Whether a request with this ``Host`` header may be answered."""
        if not (self.loopback_only or self.public_hosts):
            return True
        name = host_name(host_header)
        return name is not None and (is_loopback(name) or name in self.public_hosts)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header: behave as if there were none
        return {}
    return {k: m.value for k, m in jar.items()}


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(cookie_value: str | None, form_value: object) -> bool:
    """Whether the form's CSRF token matches the cookie (constant time)."""
    if not cookie_value or not isinstance(form_value, str) or not form_value:
        return False
    return hmac.compare_digest(cookie_value.encode(), form_value.encode())


class SecurityMiddleware:
    """Enforces a ``SecurityPolicy`` and adds the security headers to every response."""

    def __init__(self, app: ASGIApp, policy: SecurityPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _plain(send, *refusal)
            return
        if self.policy.token and scope["method"] == "GET":
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            if "token" in query:
                await self._token_login(scope, send, query)
                return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # A bug: answer 500 ourselves, with the headers, then let the server log it.
            if not started:
                await _plain(send, 500, "internal server error: see the server's log")
            raise

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if not self.policy.host_allowed(host):
            if self.policy.public_hosts:
                names = ", ".join(sorted(self.policy.public_hosts))
                return 421, (
                    f"this server answers requests for a loopback address or {names}, not "
                    f"{host!r}; add the name with --public-host"
                )
            return 421, (
                f"this server only answers requests for a loopback address, not {host!r}; "
                "start it with --token (and --public-host NAME) to serve other names"
            )
        public = str(scope.get("path", "")).startswith(self.policy.public_prefixes)
        if self.policy.token and not public and not self._has_token(headers, scope):
            return 401, "missing or wrong token: send 'Authorization: Bearer TOKEN'"
        if scope["method"] in UNSAFE_METHODS:
            site = headers.get("sec-fetch-site")
            if site is not None and site not in ("same-origin", "none"):
                return 403, f"cross-site request refused (Sec-Fetch-Site: {site})"
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc != host:
                return 403, f"cross-origin request refused (Origin: {origin})"
        return None

    def _has_token(self, headers: dict[str, str], scope: Scope) -> bool:
        token = self.policy.token
        assert token is not None
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return hmac.compare_digest(auth[7:].strip().encode(), token.encode())
        cookie = _cookies(headers).get(TOKEN_COOKIE)
        if cookie is not None:
            return hmac.compare_digest(cookie.encode(), token.encode())
        # a first visit to /?token=TOKEN: checked (and turned into a cookie) in _token_login
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        return scope["method"] == "GET" and "token" in query

    async def _token_login(self, scope: Scope, send: Send, query: dict[str, str]) -> None:
        token = self.policy.token
        assert token is not None
        if not hmac.compare_digest(query.pop("token").encode(), token.encode()):
            await _plain(send, 401, "wrong token")
            return
        location = scope.get("path", "/") + (f"?{urlencode(query)}" if query else "")
        cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
