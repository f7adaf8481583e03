"""The labeling REST API and the developer UI's Labeling section over HTTP: every route does
what the SDK does, bad input is a 4xx naming the argument, and pages have JSON twins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otelfeedback.server import create_app
from otelfeedback.store import FileStore
from tests.labeling.conftest import more_traces
from tests.server.conftest import Seeded, seed
from tests.server.live import LiveServer, get, request, send_json
from tests.server.review_client import ReviewClient
from tests.server.test_records_api import _refs

ACCURACY = {
    "name": "response_accuracy",
    "type": "feedback",
    "title": "Is the response factually accurate?",
    "input": {"type": "categorical", "options": ["Accurate", "Partially Accurate", "Inaccurate"]},
}
EXPECTED = {
    "name": "expected_response",
    "type": "expectation",
    "title": "What would be the ideal response?",
    "input": {"type": "text"},
}


@pytest.fixture
def seeded_three(tmp_path: Path) -> tuple[Seeded, list[str]]:
    seeded = seed(tmp_path / "store")
    return seeded, more_traces(3)


@pytest.fixture
def live(seeded_three: tuple[Seeded, list[str]]) -> Iterator[LiveServer]:
    import otelfeedback

    otelfeedback.flush()
    server = LiveServer(create_app(seeded_three[0].store))
    yield server
    server.close()


def api(live: LiveServer, method: str, path: str, data: Any = None) -> Any:
    reply = (
        send_json(method, live.url + path, data)
        if data is not None
        else request(method, live.url + path, None, {"Content-Type": "application/json"})
    )
    return reply.status, reply.json()


def test_the_rest_api_covers_schemas_sessions_items_links_and_labels(
    live: LiveServer, seeded_three: tuple[Seeded, list[str]]
) -> None:
    seeded, ids = seeded_three
    assert api(live, "POST", "/api/labeling/schemas", ACCURACY)[0] == 201
    assert api(live, "POST", "/api/labeling/schemas", EXPECTED)[0] == 201
    status, schemas = api(live, "GET", "/api/labeling/schemas")
    assert [s["name"] for s in schemas["label_schemas"]] == [
        "expected_response",
        "response_accuracy",
    ]
    assert api(live, "GET", "/api/labeling/schemas/response_accuracy")[1]["input"]["options"][
        2
    ] == ("Inaccurate")
    status, created = api(
        live,
        "POST",
        "/api/labeling/sessions",
        {
            "name": "quickstart_review",
            "label_schemas": ["response_accuracy", "expected_response"],
            "reviewers_per_item": 2,
        },
    )
    assert status == 201 and created["progress"]["total"] == 0
    sid = created["labeling_session_id"]
    status, added = api(
        live,
        "POST",
        f"/api/labeling/sessions/{sid}/traces",
        {"trace_ids": [seeded.trace_id, ids[0]]},
    )
    assert (status, added) == (200, {"added": 2, "total": 2})
    status, added = api(
        live,
        "POST",
        "/api/labeling/sessions/quickstart_review/traces",
        {"filter": "feedback.user_feedback = false"},
    )
    assert added == {"added": 0, "total": 2}
    for reviewer, value in [("alice", "Accurate"), ("bob", "Inaccurate")]:
        status, review = api(
            live,
            "POST",
            f"/api/labeling/sessions/{sid}/labels",
            {
                "trace_id": seeded.trace_id,
                "reviewer": reviewer,
                "labels": {"response_accuracy": value},
            },
        )
        assert status == 201 and review["state"] == "done"
    status, items = api(live, "GET", f"/api/labeling/sessions/{sid}/items")
    assert items["total"] == 2 and items["items"][0]["state"] == "done"
    assert set(items["items"][0]["reviews"]) == {"alice", "bob"}
    assert (
        api(live, "GET", f"/api/labeling/sessions/{sid}/items?offset=2&limit=1")[1]["items"][0][
            "trace_id"
        ]
        == ids[0]
    )
    assert api(live, "GET", f"/api/labeling/sessions/{sid}/progress")[1]["done"] == 1
    status, agreement = api(live, "GET", f"/api/labeling/sessions/{sid}/agreement")
    accuracy = agreement["schemas"][0]
    assert accuracy["percent_agreement"] == 0.0 and len(accuracy["disagreements"]) == 1
    status, made = api(
        live,
        "POST",
        f"/api/labeling/sessions/{sid}/links",
        {"reviewer": "carol", "expires_in_seconds": 3600},
    )
    assert status == 201 and made["url"].startswith(live.url + "/review/")
    assert ReviewClient(live.url).follow(ReviewClient(live.url).get(made["url"])).status == 200
    assert api(live, "POST", f"/api/labeling/sessions/{sid}/links", {})[1]["reviewer"] is None
    status, removed = api(
        live, "POST", f"/api/labeling/sessions/{sid}/traces/remove", {"trace_ids": [ids[0]]}
    )
    assert removed == {"removed": 1}
    assert (
        api(live, "GET", "/api/labeling/sessions")[1]["labeling_sessions"][0]["progress"]["total"]
        == 1
    )
    assert api(live, "POST", "/api/labeling/link-secret/rotate")[1]["key_version"] == 2
    assert get(made["url"]).status == 403
    assert api(live, "DELETE", f"/api/labeling/sessions/{sid}")[1] == {"deleted": sid}
    assert api(live, "DELETE", "/api/labeling/schemas/expected_response")[0] == 200
    assert api(live, "GET", f"/api/labeling/sessions/{sid}")[0] == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "argument"),
    [
        (
            "/api/labeling/schemas",
            {**ACCURACY, "input": {"type": "categorical", "options": []}},
            400,
            "input.options",
        ),
        (
            "/api/labeling/schemas",
            {**ACCURACY, "input": {"type": "numeric", "min_value": 2, "max_value": 1}},
            400,
            "input.min_value",
        ),
        ("/api/labeling/schemas", {"name": "x", "title": "t"}, 400, "input"),
        ("/api/labeling/schemas", {**ACCURACY, "colour": "red"}, 400, "colour"),
        (
            "/api/labeling/sessions",
            {"name": "s", "label_schemas": ["nope"]},
            400,
            "label_schemas[0]",
        ),
        ("/api/labeling/sessions/nope/traces", {"trace_ids": []}, 404, None),
    ],
)
def test_bad_requests_are_4xx_naming_the_argument(
    live: LiveServer, path: str, body: Any, status: int, argument: str | None
) -> None:
    reply = send_json("POST", live.url + path, body)
    assert reply.status == status
    if argument:
        assert reply.json()["error"]["argument"] == argument


def test_bad_labels_and_traces_over_rest(
    live: LiveServer, seeded_three: tuple[Seeded, list[str]]
) -> None:
    seeded, _ = seeded_three
    api(live, "POST", "/api/labeling/schemas", ACCURACY)
    sid = api(
        live,
        "POST",
        "/api/labeling/sessions",
        {"name": "s", "label_schemas": ["response_accuracy"]},
    )[1]["labeling_session_id"]
    status, error = api(
        live, "POST", f"/api/labeling/sessions/{sid}/traces", {"trace_ids": ["f" * 32]}
    )
    assert status == 404 and "ffff" in error["error"]["message"]
    status, error = api(
        live, "POST", f"/api/labeling/sessions/{sid}/traces", {"trace_ids": ["nope"]}
    )
    assert status == 400 and error["error"]["argument"] == "traces[0]"
    api(live, "POST", f"/api/labeling/sessions/{sid}/traces", {"trace_ids": [seeded.trace_id]})
    status, error = api(
        live,
        "POST",
        f"/api/labeling/sessions/{sid}/labels",
        {"trace_id": seeded.trace_id, "reviewer": "a", "labels": {"response_accuracy": "Great"}},
    )
    assert status == 400 and error["error"]["argument"] == "labels.response_accuracy"
    status, error = api(
        live, "POST", f"/api/labeling/sessions/{sid}/links", {"expires_in_seconds": -1}
    )
    assert status == 400 and error["error"]["argument"] == "expires_in_seconds"
    assert (
        request(
            "POST",
            live.url + f"/api/labeling/sessions/{sid}/links",
            b"x",
            {"Content-Type": "text/plain"},
        ).status
        == 415
    )


def test_every_labeling_route_is_in_the_openapi_document(live: LiveServer) -> None:
    from otelfeedback.server import api_labeling

    doc = get(live.url + "/api/openapi.json").json()
    for route in api_labeling.routes:
        path = route.path.replace("{name:path}", "{name}")
        assert path in doc["paths"], path
        assert {m.lower() for m in route.methods or ()} - {"head"} <= set(doc["paths"][path])
    refs = {v.split("/")[-1] for v in _refs(doc["paths"])}
    assert refs <= set(doc["components"]["schemas"])


def test_the_labeling_pages_and_their_forms(
    live: LiveServer, seeded_three: tuple[Seeded, list[str]]
) -> None:
    seeded, ids = seeded_three
    ui = ReviewClient(live.url)
    assert ui.get("/labeling").status == 307
    assert "No labeling sessions yet" in ui.get("/labeling/sessions").text
    schemas = ui.get("/labeling/schemas")
    assert schemas.status == 200 and "No label schemas yet" in schemas.text
    bad = ui.post(
        "/labeling/schemas",
        {
            "name": "response_accuracy",
            "title": "Accurate?",
            "type": "feedback",
            "input_type": "categorical",
            "options": "Accurate\nAccurate",
        },
    )
    assert bad.status == 400 and "listed twice" in bad.text and "Accurate\nAccurate" in bad.text
    made = ui.post(
        "/labeling/schemas",
        {
            "name": "response_accuracy",
            "title": "Accurate?",
            "type": "feedback",
            "input_type": "categorical",
            "options": "Accurate\nPartially Accurate\nInaccurate",
        },
    )
    assert made.status == 303
    ui.post(
        "/labeling/schemas",
        {
            "name": "score",
            "title": "Score",
            "type": "feedback",
            "input_type": "numeric",
            "min_value": "1",
            "max_value": "5",
        },
    )
    edit = ui.get("/labeling/schemas/score")
    assert "Edit “score”" in edit.text and 'value="5"' in edit.text
    ui.post(
        "/labeling/schemas",
        {
            "name": "score",
            "title": "Score (1-10)",
            "type": "feedback",
            "input_type": "numeric",
            "max_value": "10",
            "overwrite": "1",
        },
    )
    twin = get(live.url + "/labeling/schemas/score?format=json").json()
    assert twin["title"] == "Score (1-10)" and twin["input"]["max_value"] == 10
    assert ui.post("/labeling/schemas/score/delete", {}).status == 303
    assert get(live.url + "/labeling/schemas/score?format=json").status == 404

    created = ui.post(
        "/labeling/sessions",
        [
            ("name", "ui_review"),
            ("label_schemas", "response_accuracy"),
            ("assigned_users", "alice\nbob"),
            ("reviewers_per_item", "2"),
        ],
    )
    assert created.status == 303
    session_path = created.headers["location"]
    taken = ui.post(
        "/labeling/sessions", [("name", "ui_review"), ("label_schemas", "response_accuracy")]
    )
    assert taken.status == 400 and "exists" in taken.text
    # the traces table's selection: two rows, then everything matching a filter
    traces = ui.get("/traces")
    assert 'form="trace-selection"' in traces.text and "Add to labeling session" in traces.text
    sid = session_path.rsplit("/", 1)[-1]
    added = ui.post(
        "/labeling/add-traces", [("session", sid), ("trace_id", ids[0]), ("trace_id", ids[1])]
    )
    assert added.status == 303 and added.headers["location"].endswith("added=2")
    ui.post(
        "/labeling/add-traces",
        [("session", sid), ("scope", "filter"), ("filter", "feedback.user_feedback = false")],
    )
    nothing = ui.post("/labeling/add-traces", [("session", sid)])
    assert nothing.status == 400 and "Select at least one trace" in nothing.text
    # the trace page offers the same action for its trace
    assert 'name="trace_id" value="' + seeded.trace_id in ui.get(f"/traces/{seeded.trace_id}").text

    page = ui.get(session_path)
    assert page.status == 200 and "ui_review" in page.text
    assert page.text.count('data-reviewer="alice"') >= 1 and "Shared link" in page.text
    data = get(live.url + session_path + "?format=json").json()
    assert [i["trace_id"] for i in data["items"]] == [ids[0], ids[1], seeded.trace_id]
    assert set(data["links"]["assigned"]) == {"alice", "bob"}
    refused = ui.post(session_path + "/links", {"reviewer": "mallory", "days": "3"})
    assert refused.status == 400 and "not assigned" in refused.text
    link = ui.post(session_path + "/links", {"reviewer": "alice", "days": "3"})
    assert link.status == 200 and 'id="new-link"' in link.text
    ui.post(session_path + "/remove", [("trace_id", ids[1])])
    data = get(live.url + session_path + "?format=json").json()
    assert [i["trace_id"] for i in data["items"]] == [ids[0], seeded.trace_id]
    assert ui.post(session_path + "/delete", {}).status == 303
    assert ui.get(session_path).status == 404
    assert FileStore(seeded_three[0].store).list_records("labeling_session") == []
