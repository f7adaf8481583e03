"""Paging: a list that knows the token of the next page."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, TypeVar

from otelfeedback.errors import InvalidArgumentError

T = TypeVar("T")


class PagedList(list[T]):
    """A page of results; ``token`` is the ``page_token`` of the next page (None at the end)."""

    def __init__(self, items: list[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token


def query_fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def encode_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"offset": offset, "query": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, fingerprint: str) -> int:
    """The offset a ``page_token`` stands for.

    Raises:
        InvalidArgumentError: the token is malformed or belongs to another query.
    """
    if token is None:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = data["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidArgumentError("page_token", f"not a page token: {token!r}") from None
    if data.get("query") != fingerprint:
        raise InvalidArgumentError(
            "page_token", "this token belongs to a different filter, order or run_id"
        )
    return offset
