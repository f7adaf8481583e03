"""A reviewer's browser without a browser: follows the review app's pages over HTTP, keeping
its cookies (the CSRF token) and posting its forms."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.server.live import Reply, request


class Page:
    """A reply and the path it came from."""

    def __init__(self, reply: Reply, url: str) -> None:
        self.reply = reply
        self.url = url
        self.status = reply.status
        self.text = reply.text
        self.headers = reply.headers


class ReviewClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies: dict[str, str] = {}

    def _url(self, url: str) -> str:
        return url if url.startswith("http") else self.base_url + url

    def _remember(self, reply: Reply) -> Reply:
        for key, value in reply.headers.items():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return reply

    def _headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie} if cookie else {}

    def get(self, url: str) -> Reply:
        return self._remember(request("GET", self._url(url), None, self._headers()))

    def post(self, url: str, fields: list[tuple[str, str]] | dict[str, Any]) -> Reply:
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        csrf = self.cookies.get("otelfeedback_csrf", "")
        body = urlencode([("csrf_token", csrf), *pairs]).encode()
        headers = {**self._headers(), "Content-Type": "application/x-www-form-urlencoded"}
        return self._remember(request("POST", self._url(url), body, headers))

    def follow(self, reply: Reply | Page) -> Page:
        """GET the redirect target of ``reply`` (a 303)."""
        assert reply.status in (303, 307), (reply.status, reply.text[:500])
        location = reply.headers.get("location") or reply.headers.get("Location") or ""
        path = urlsplit(location).path or location
        return Page(self.get(path), path)


def texts(html: str, css_class: str) -> list[str]:
    """The text of the elements with this class (a small scrape for assertions)."""
    found = re.findall(rf'class="[^"]*\b{css_class}\b[^"]*"[^>]*>(.*?)</', html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", f)).strip() for f in found]
