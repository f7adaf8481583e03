"""Signed review links: scoped to a session, a reviewer and an expiry; tampering, another
store's key, expiry and rotation all refuse them."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path

import pytest

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.labeling import links
from otelfeedback.store import FileStore

SESSION = "lss-" + "a" * 32


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "store")


def test_a_link_names_its_session_reviewer_and_expiry(store: FileStore) -> None:
    expires = links.expiry_seconds(3600, now_s=999_960)
    assert expires == 1_003_560
    token = links.sign(store, SESSION, "expert@example.com", expires)
    claims = links.verify(store, token, now_s=1_000_000)
    assert (claims.session_id, claims.reviewer, claims.expires_s) == (
        SESSION,
        "expert@example.com",
        expires,
    )
    shared = links.verify(store, links.sign(store, SESSION, "", expires), now_s=1_000_000)
    assert shared.reviewer == ""
    assert links.link_url("http://host:5050/", token) == f"http://host:5050/review/{token}"


def test_expired_links_are_refused(store: FileStore) -> None:
    token = links.sign(store, SESSION, "r", 2_000_000)
    links.verify(store, token, now_s=1_999_999)
    with pytest.raises(links.LinkError) as info:
        links.verify(store, token, now_s=2_000_000)
    assert info.value.reason == "expired" and "expired on 1970-01-24" in info.value.message


def _resigned_payload(token: str, **changes: object) -> str:
    payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{raw}.{signature}"


def test_tampered_and_malformed_links_are_invalid(store: FileStore) -> None:
    token = links.sign(store, SESSION, "alice", 2**40)
    payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for bad in [
        _resigned_payload(token, r="mallory"),  # another reviewer
        _resigned_payload(token, s="lss-" + "b" * 32),  # another session
        _resigned_payload(token, e=2**41),  # a later expiry
        f"{payload}.{flipped}",
        payload,
        f"{payload}.{signature}.x",
        "",
        "a" * 5000,
        "%%%.@@@",
        f"{base64.urlsafe_b64encode(b'[1]').decode()}.{signature}",
    ]:
        with pytest.raises(links.LinkError) as info:
            links.verify(store, bad)
        assert info.value.reason == "invalid", bad


def test_a_link_from_another_store_is_invalid(store: FileStore, tmp_path: Path) -> None:
    other = FileStore(tmp_path / "other")
    token = links.sign(other, SESSION, "alice", 2**40)
    with pytest.raises(links.LinkError) as info:
        links.verify(store, token)  # this store has no key yet
    assert info.value.reason == "invalid"
    links.sign(store, SESSION, "alice", 2**40)  # now it has its own
    with pytest.raises(links.LinkError):
        links.verify(store, token)


def test_rotating_the_secret_revokes_every_link(store: FileStore) -> None:
    old = links.sign(store, SESSION, "alice", 2**40)
    assert links.rotate(store) == 2
    with pytest.raises(links.LinkError) as info:
        links.verify(store, old)
    assert info.value.reason == "revoked"
    fresh = links.sign(store, SESSION, "alice", 2**40)
    assert links.verify(store, fresh).reviewer == "alice"


def test_expiry_arguments_are_checked() -> None:
    assert links.expiry_seconds(datetime.timedelta(hours=1), now_s=0) == 3600
    assert links.expiry_seconds(1, now_s=0) == 60  # rounded up to the minute
    assert links.expiry_seconds(1, now_s=0, granularity=3600) == 3600
    for bad in [0, -5, "1d", True, None, datetime.timedelta(days=400)]:
        with pytest.raises(InvalidArgumentError) as info:
            links.expiry_seconds(bad)
        assert info.value.argument == "expires_in"
