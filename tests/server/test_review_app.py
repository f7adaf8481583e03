"""The review app over HTTP: what a link opens and what it does not, the item page and its
JSON twin, submitting, skipping, errors that keep what was typed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.labeling import (
    InputNumeric,
    create_label_schema,
    create_labeling_session,
    links,
    using_store,
)
from otelfeedback.server import create_app
from otelfeedback.store import FileStore
from tests.labeling.conftest import more_traces, step5_schemas
from tests.server.conftest import Seeded, seed
from tests.server.live import LiveServer, get, request, send_json
from tests.server.review_client import ReviewClient


@pytest.fixture
def labeled(tmp_path: Path) -> Seeded:
    seeded = seed(tmp_path / "store")
    step5_schemas()
    create_label_schema(
        "score", title="Score from 1 to 5", input=InputNumeric(1, 5), enable_comment=True
    )
    session = create_labeling_session(
        "quickstart_review",
        label_schemas=["response_accuracy", "expected_response", "score"],
        instructions="Compare the answer with the MLflow docs.",
    )
    session.add_traces([seeded.trace_id, *more_traces(2)])
    otelfeedback.flush()
    return seeded


@pytest.fixture
def live(labeled: Seeded) -> Iterator[LiveServer]:
    server = LiveServer(create_app(labeled.store))
    yield server
    server.close()


def link(store: Path, reviewer: str = "alice", expires: int = 2**40) -> str:
    files = FileStore(store)
    with using_store(files):
        from otelfeedback.labeling import get_labeling_session

        session = get_labeling_session("quickstart_review")
    return "/review/" + links.sign(files, session.labeling_session_id, reviewer, expires)


def test_a_reviewer_link_goes_to_their_first_item(live: LiveServer, labeled: Seeded) -> None:
    client = ReviewClient(live.url)
    item = client.follow(client.get(link(labeled.store)))
    assert item.status == 200
    assert f"/items/{labeled.trace_id}" in item.url
    assert "1 of 3" in item.text and "Compare the answer with the MLflow docs." in item.text
    assert item.headers["content-security-policy"].startswith("default-src 'none'")
    assert 'href="/traces' not in item.text  # nothing leads into the developer UI
    data = get(live.url + item.url + "?format=json").json()
    assert data["item"] == {
        "trace_id": labeled.trace_id,
        "position": 1,
        "total": 3,
        "your_review": None,
    }
    assert data["reviewer"] == "alice"
    assert [s["name"] for s in data["schemas"]] == [
        "response_accuracy",
        "expected_response",
        "score",
    ]
    assert data["conversation"]["request"][0]["text"] == "What is MLflow?"
    assert [d["text"] for r in data["conversation"]["retrievals"] for d in r["documents"]] == [
        "MLflow is an open-source platform for managing the ML lifecycle."
    ]
    assert [a["name"] for a in data["assessments"]] == ["user_feedback"]


def test_submit_goes_to_the_next_item_and_the_labels_are_assessments(
    live: LiveServer, labeled: Seeded
) -> None:
    client = ReviewClient(live.url)
    item = client.follow(client.get(link(labeled.store)))
    reply = client.post(
        item.url,
        [
            ("action", "submit"),
            ("label-0", "Inaccurate"),
            ("label-1", "It is a platform for the ML lifecycle."),
            ("label-2", "2"),
            ("comment-2", "Too short."),
        ],
    )
    assert reply.status == 303
    following = client.follow(reply)
    assert "2 of 3" in following.text and "You: 1 labeled" in following.text
    trace = FileStore(labeled.store).get_trace(labeled.trace_id)
    mine = {a.name: a for a in trace.assessments if a.source.source_id == "alice"}
    assert mine["response_accuracy"].value == "Inaccurate"
    assert mine["expected_response"].value == "It is a platform for the ML lifecycle."
    assert (mine["score"].value, mine["score"].rationale) == (2, "Too short.")
    # back on the first item, the form shows the answers to change
    again = client.get(item.url)
    assert "You labeled this item" in again.text
    assert 'value="Inaccurate" checked' in again.text and 'value="2"' in again.text


def test_bad_answers_come_back_with_messages_and_what_was_typed(
    live: LiveServer, labeled: Seeded
) -> None:
    client = ReviewClient(live.url)
    item = client.follow(client.get(link(labeled.store)))
    reply = client.post(
        item.url,
        [
            ("action", "submit"),
            ("label-0", "Great"),
            ("label-1", "my draft answer"),
            ("label-2", "9"),
        ],
    )
    assert reply.status == 400
    assert "expected one of &#39;Accurate&#39;" in reply.text
    assert "must be at most 5, got 9" in reply.text
    assert "my draft answer" in reply.text and 'value="9"' in reply.text
    nothing = client.post(item.url, [("action", "submit")])
    assert nothing.status == 400 and "answer at least one question, or skip" in nothing.text
    not_a_number = client.post(item.url, [("action", "submit"), ("label-2", "many")])
    assert not_a_number.status == 400 and "is not a number" in not_a_number.text
    trace = FileStore(labeled.store).get_trace(labeled.trace_id)
    assert not [a for a in trace.assessments if a.source.source_id == "alice"]


def test_skip_then_done_lists_the_skipped_items(live: LiveServer, labeled: Seeded) -> None:
    client = ReviewClient(live.url)
    page = client.follow(client.get(link(labeled.store)))
    for _ in range(3):
        page = client.follow(client.post(page.url, {"action": "skip"}))
    assert page.url.endswith("/done")
    assert "All done" in page.text and "skipped 3" in page.text
    assert page.text.count('href="/review/') >= 3
    assert (
        client.post(
            page.url.replace("/done", f"/items/{labeled.trace_id}"), {"action": "dance"}
        ).status
        == 400
    )


def test_links_that_do_not_open_get_a_403_page(live: LiveServer, labeled: Seeded) -> None:
    good = link(labeled.store)
    expired = link(labeled.store, expires=1_000_000)
    payload, signature = good.removeprefix("/review/").split(".")
    tampered = f"/review/{payload}.{signature[::-1]}"
    for path, words in [
        (expired, "expired on"),
        (tampered, "not valid"),
        ("/review/garbage", "not valid"),
        (tampered + f"/items/{labeled.trace_id}", "not valid"),
        (expired + "/done", "expired"),
    ]:
        reply = get(live.url + path)
        assert reply.status == 403, path
        assert words in reply.text
        assert get(live.url + path + "?format=json").json()["error"]["code"] == "LINK_REFUSED"
    FileStore(labeled.store).append_record(
        "labeling_link_secret", "review-links", {"key": "00" * 32}
    )  # rotated
    revoked = get(live.url + good)
    assert revoked.status == 403 and "revoked" in revoked.text


def test_a_link_only_opens_its_own_session(live: LiveServer, labeled: Seeded) -> None:
    client = ReviewClient(live.url)
    base = link(labeled.store)
    missing = client.get(f"{base}/items/{labeled.script_trace_id}")
    assert missing.status == 404 and "not in this labeling session" in missing.text
    client.get(base)
    posted = client.post(
        f"{base}/items/{labeled.script_trace_id}", {"action": "submit", "label-0": "Accurate"}
    )
    assert posted.status == 404
    no_csrf = request(
        "POST",
        live.url + f"{base}/items/{labeled.trace_id}",
        b"action=submit&label-0=Accurate",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert no_csrf.status == 403


def test_the_shared_link_asks_who_reviews(live: LiveServer, labeled: Seeded) -> None:
    client = ReviewClient(live.url)
    shared = link(labeled.store, reviewer="")
    start = client.get(shared)
    assert start.status == 200 and "Your name or email" in start.text
    assert get(live.url + shared + "?format=json").json()["needs_reviewer"] is True
    empty = client.post(shared + "/start", {"reviewer": "  "})
    assert empty.status == 400 and "expected a reviewer name" in empty.text
    own = client.follow(client.post(shared + "/start", {"reviewer": "Dr. Who"}))
    assert own.url.startswith("/review/") and own.url != shared
    item = client.follow(own)
    assert "Dr. Who" in item.text


def test_with_a_token_the_link_reaches_the_review_app_and_nothing_else(
    labeled: Seeded,
) -> None:
    server = LiveServer(create_app(labeled.store, token="s3cret"))
    try:
        client = ReviewClient(server.url)
        base = link(labeled.store)
        item = client.follow(client.get(base))
        assert item.status == 200
        assert client.get("/static/x/app.css").status == 200
        for path in [
            "/traces",
            f"/traces/{labeled.trace_id}",
            "/labeling/sessions",
            "/api/traces",
            "/api/labeling/sessions",
            "/api/records/label_schema",
        ]:
            assert client.get(path).status == 401, path
        assert send_json("POST", server.url + "/api/labeling/link-secret/rotate", {}).status == 401
        bearer = {"Authorization": "Bearer s3cret"}
        assert get(server.url + "/api/labeling/sessions", bearer).status == 200
    finally:
        server.close()
