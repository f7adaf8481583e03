"""Signed review links: ``<server>/review/<token>``, no account needed.

A token is ``<payload>.<signature>``: the payload (base64url JSON) names the session, the
reviewer (empty for a session's shared link, where reviewers say who they are) and the
expiry; the signature is HMAC-SHA256 over it with a key kept in the store (a
``labeling_link_secret`` record, made on first use). Rotating the key (a new version of the
record) revokes every link signed before.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from otelfeedback.errors import ConflictError, InvalidArgumentError, NotFoundError
from otelfeedback.labeling._store import SECRET_KIND
from otelfeedback.store.base import TraceStore

SECRET_ID = "review-links"
DEFAULT_LIFETIME = datetime.timedelta(days=14)
MAX_LIFETIME = datetime.timedelta(days=366)
MAX_TOKEN_LENGTH = 4096
_CONTEXT = b"otelfeedback.review-link.v1."


@dataclass(frozen=True)
class LinkClaims:
    """What a valid link grants: one session, as one reviewer ("" = the reviewer says who
    they are), until ``expires_s`` (seconds since the epoch)."""

    session_id: str
    reviewer: str
    expires_s: int
    key_version: int


class LinkError(Exception):
    """A link that does not open: ``reason`` is ``invalid``, ``expired`` or ``revoked``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(store: TraceStore, *, create: bool) -> tuple[int, bytes] | None:
    """The current key and its version (made when missing and ``create``)."""
    for _ in range(5):
        try:
            record = store.get_record(SECRET_KIND, SECRET_ID)
            return record.version, bytes.fromhex(record.data["key"])
        except NotFoundError:
            if not create:
                return None
        history = store.record_history(SECRET_KIND, SECRET_ID)
        try:
            store.append_record(
                SECRET_KIND,
                SECRET_ID,
                {"key": secrets.token_hex(32)},
                expected_version=history[-1].version if history else 0,
            )
        except ConflictError:
            continue  # another process made it first: read theirs
    raise RuntimeError("the review link secret keeps changing")  # pragma: no cover


def rotate(store: TraceStore) -> int:
    """Replace the signing key: every link signed so far stops working. Returns the new
    key's version."""
    return store.append_record(SECRET_KIND, SECRET_ID, {"key": secrets.token_hex(32)}).version


def expiry_seconds(expires_in: Any, now_s: float | None = None, granularity: int = 60) -> int:
    """The expiry (seconds since the epoch) of a link valid for ``expires_in`` (a
    ``timedelta`` or seconds), rounded up to ``granularity`` seconds.

    Raises:
        InvalidArgumentError: not positive, or longer than a year.
    """
    if isinstance(expires_in, datetime.timedelta):
        seconds = expires_in.total_seconds()
    elif isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
        seconds = float(expires_in)
    else:
        raise InvalidArgumentError(
            "expires_in", f"expected a timedelta or seconds, got {expires_in!r:.40}"
        )
    if not seconds > 0 or seconds > MAX_LIFETIME.total_seconds():
        raise InvalidArgumentError(
            "expires_in", f"expected more than 0 and at most 366 days, got {expires_in!r:.40}"
        )
    end = (time.time() if now_s is None else now_s) + seconds
    return int(-(-end // granularity) * granularity)


def sign(store: TraceStore, session_id: str, reviewer: str, expires_s: int) -> str:
    """A token for ``reviewer`` ("" for anyone) on the session until ``expires_s``."""
    found = _key(store, create=True)
    assert found is not None
    version, key = found
    claims = {"s": session_id, "r": reviewer, "e": expires_s, "k": version}
    payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=True).encode())
    signature = hmac.new(key, _CONTEXT + payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(signature)}"


def _claims(token: str) -> tuple[str, str, LinkClaims]:
    invalid = LinkError(
        "invalid", "This review link is not valid: it may be incomplete or altered."
    )
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise invalid
    payload, signature = token.split(".")
    try:
        data = json.loads(_unb64(payload))
        claims = LinkClaims(data["s"], data["r"], data["e"], data["k"])
    except (ValueError, binascii.Error, KeyError, TypeError):
        raise invalid from None
    types_ok = (
        isinstance(claims.session_id, str)
        and isinstance(claims.reviewer, str)
        and isinstance(claims.expires_s, int)
        and isinstance(claims.key_version, int)
    )
    if not types_ok:
        raise invalid
    return payload, signature, claims


def verify(store: TraceStore, token: str, now_s: float | None = None) -> LinkClaims:
    """The claims of a valid, unexpired token signed with the current key.

    Raises:
        LinkError: tampered, foreign or malformed (``invalid``), signed with a rotated key
            (``revoked``), or past its expiry (``expired``).
    """
    payload, signature, claims = _claims(token)
    found = _key(store, create=False)
    if found is None:
        raise LinkError("invalid", "This review link was not issued by this server.")
    version, key = found
    expected = hmac.new(key, _CONTEXT + payload.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
    except (ValueError, binascii.Error):
        given = b""
    if not hmac.compare_digest(expected, given):
        if claims.key_version < version:
            raise LinkError("revoked", "This review link has been revoked. Ask for a new one.")
        raise LinkError(
            "invalid", "This review link is not valid: it may be incomplete or altered."
        )
    if (time.time() if now_s is None else now_s) >= claims.expires_s:
        when = datetime.datetime.fromtimestamp(claims.expires_s, tz=datetime.timezone.utc)
        raise LinkError(
            "expired",
            f"This review link expired on {when:%Y-%m-%d %H:%M} UTC. Ask for a new one.",
        )
    return claims


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/review/{token}"
