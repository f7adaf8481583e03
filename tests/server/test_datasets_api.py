"""Datasets on the server: the REST API, the pages' JSON twins, the "Add to dataset" form
(CSRF-checked) and the OpenAPI document; bad input is a 4xx that writes nothing."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from otelfeedback.server import api_datasets, pages_datasets
from tests.server.conftest import Seeded
from tests.server.live import LiveServer, Reply, get, request, send_json
from tests.server.test_pages import _form_session
from tests.server.test_records_api import _refs


def api(server: LiveServer, method: str, path: str, body: Any = None) -> Reply:
    url = server.url + "/api/datasets" + path
    return get(url) if method == "GET" and body is None else send_json(method, url, body)


def test_rest_round_trip(server: LiveServer, seeded: Seeded) -> None:
    created = api(server, "POST", "", {"name": "golden", "tags": {"team": "qa"}})
    assert created.status == 201
    dataset_id = created.json()["dataset_id"]
    assert created.json()["version"] == 0
    merged = api(server, "POST", "/golden/traces", {"trace_ids": [seeded.trace_id]})
    assert merged.status == 200 and merged.json()["version"] == 1
    body = {"records": [{"inputs": {"user_question": "Why?"}, "expectations": {"e": 1}}]}
    second = api(server, "POST", f"/{dataset_id}/records", body)
    assert (second.json()["version"], second.json()["record_count"]) == (2, 2)
    page = api(server, "GET", "/golden/records?version=1").json()
    assert page["dataset"]["version"] == 1 and len(page["records"]) == 1
    assert page["records"][0]["source"] == {"source_type": "TRACE", "source_id": seeded.trace_id}
    first_page = api(server, "GET", "/golden/records?limit=1").json()
    assert len(first_page["records"]) == 1 and first_page["next_offset"] == 1
    rest = api(server, "GET", "/golden/records?limit=1&offset=1").json()
    assert rest["next_offset"] is None
    versions = api(server, "GET", "/golden/versions").json()["versions"]
    assert [(v["version"], v["added"]) for v in versions] == [(1, 1), (2, 1)]
    diff = api(server, "GET", "/golden/diff?from=1&to=2").json()
    assert len(diff["added"]) == 1 and diff["added"][0]["inputs"] == {"user_question": "Why?"}
    record_id = diff["added"][0]["record_id"]
    removed = api(server, "POST", "/golden/records/delete", {"record_ids": [record_id]})
    assert removed.json()["deleted"] == 1 and removed.json()["dataset"]["version"] == 3
    assert [d["name"] for d in api(server, "GET", "").json()["datasets"]] == ["golden"]
    assert api(server, "GET", "/golden?version=2").json()["record_count"] == 2
    assert request("DELETE", server.url + "/api/datasets/golden").status == 204
    assert api(server, "GET", "/golden").status == 404
    assert api(server, "GET", "").json()["datasets"] == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "argument"),
    [
        ("POST", "", {"name": ""}, 400, "name"),
        ("POST", "", {"name": "x", "owner": "me"}, 400, "owner"),
        ("POST", "", {"name": "golden"}, 400, "name"),  # taken
        ("POST", "/golden/records", {"records": [{"inputs": "text"}]}, 400, "records[0].inputs"),
        (
            "POST",
            "/golden/records",
            {"records": [{"inputs": {"q": 1}}, {"inputs": {"q": "a"}}]},
            400,
            "records[1].inputs.q",
        ),
        ("POST", "/golden/records", {"rows": []}, 400, "rows"),
        ("POST", "/golden/records", {}, 400, "records"),
        ("POST", "/golden/traces", {"trace_ids": []}, 400, "trace_ids"),
        ("POST", "/golden/traces", {"trace_ids": ["ab" * 16, "nope"]}, 400, "trace_ids[1]"),
        ("POST", "/golden/traces", {"trace_ids": ["ab" * 16]}, 404, None),
        ("POST", "/golden/records/delete", {"record_ids": ["x"]}, 400, "record_ids[0]"),
        ("POST", "/golden/records/delete", {"record_ids": "r-1"}, 400, "record_ids"),
        ("POST", "/missing/records", {"records": [{"inputs": {"q": "a"}}]}, 404, None),
        ("GET", "/golden?version=7", None, 400, "version"),
        ("GET", "/golden?version=-1", None, 400, "version"),
        ("GET", "/golden/records?limit=99999", None, 400, "limit"),
        ("GET", "/golden/diff?from=0&to=9", None, 400, "version"),
        ("GET", "/golden/diff?from=x", None, 400, "from"),
        ("GET", "/missing", None, 404, None),
        ("GET", "/d-" + "0" * 32 + "/versions", None, 404, None),
    ],
)
def test_bad_input_is_4xx_and_writes_nothing(
    server: LiveServer,
    seeded: Seeded,
    method: str,
    path: str,
    body: Any,
    status: int,
    argument: str | None,
) -> None:
    api(server, "POST", "", {"name": "golden"})
    reply = api(server, method, path, body)
    assert reply.status == status, reply.text
    if argument is not None:
        assert reply.json()["error"]["argument"] == argument
    after = api(server, "GET", "/golden").json()
    assert (after["version"], after["record_count"]) == (0, 0)


def test_bodies_are_limited_and_typed(server: LiveServer, seeded: Seeded) -> None:
    api(server, "POST", "", {"name": "golden"})
    url = server.url + "/api/datasets/golden/records"
    assert request("POST", url, b"{}", {"Content-Type": "text/plain"}).status == 415
    assert request("POST", url, b"[", {"Content-Type": "application/json"}).status == 400
    big = b'{"records": [{"inputs": {"q": "' + b"x" * (33 * 1024 * 1024) + b'"}}]}'
    assert request("POST", url, big, {"Content-Type": "application/json"}).status == 413


def test_json_twins_of_the_pages(server: LiveServer, seeded: Seeded) -> None:
    dataset_id = api(server, "POST", "", {"name": "twins"}).json()["dataset_id"]
    api(server, "POST", "/twins/traces", {"trace_ids": [seeded.trace_id, seeded.script_trace_id]})
    listing = get(server.url + "/datasets?format=json").json()
    assert [d["dataset_id"] for d in listing["datasets"]] == [dataset_id]
    page = get(server.url + f"/datasets/{dataset_id}?format=json").json()
    assert page["dataset"]["name"] == "twins" and len(page["records"]) == 2
    assert [v["version"] for v in page["versions"]] == [1]
    by_name = get(server.url + "/datasets/twins?format=json&version=0").json()
    assert by_name["records"] == [] and by_name["dataset"]["version"] == 0
    diff = get(server.url + f"/datasets/{dataset_id}/diff?from=0&to=1&format=json").json()
    assert len(diff["added"]) == 2
    assert get(server.url + "/datasets/missing?format=json").status == 404
    assert get(server.url + "/datasets/twins?version=5&format=json").status == 400
    html = get(server.url + f"/datasets/{dataset_id}").text
    assert "<script>window.__pwned" not in html  # trace content is escaped here too
    assert "&lt;script&gt;" in html


def _post_form(
    server: LiveServer, seeded: Seeded, path: str, fields: list[tuple[str, str]]
) -> Reply:
    headers, token = _form_session(server, seeded.trace_id)
    body = urllib.parse.urlencode([*fields, ("csrf_token", token)]).encode()
    return request("POST", server.url + path, body, headers)


def test_create_form_and_add_to_dataset(server: LiveServer, seeded: Seeded) -> None:
    traces_page = get(server.url + "/traces").text
    assert "Create a dataset to add traces to" in traces_page  # none yet: a link to create one
    created = _post_form(server, seeded, "/datasets", [("name", "picked"), ("description", "d")])
    assert created.status == 303 and created.headers["location"].endswith("?version=0")
    dataset_id = api(server, "GET", "/picked").json()["dataset_id"]
    traces_page = get(server.url + "/traces").text
    assert 'id="dataset-action"' in traces_page and f'value="{dataset_id}"' in traces_page
    assert 'id="dataset-action"' in get(server.url + f"/traces/{seeded.trace_id}").text
    fields = [("dataset", dataset_id), ("trace_id", seeded.trace_id)]
    reply = _post_form(
        server, seeded, "/datasets/add-traces", [*fields, ("trace_id", seeded.script_trace_id)]
    )
    assert reply.status == 303
    assert reply.headers["location"] == f"/datasets/{dataset_id}?version=1"
    assert api(server, "GET", "/picked").json()["record_count"] == 2
    # adding again changes nothing: no new version
    again = _post_form(server, seeded, "/datasets/add-traces", fields)
    assert again.headers["location"].endswith("?version=1")
    # "all traces matching the filter"
    api(server, "POST", "", {"name": "filtered"})
    scoped = [
        ("dataset", "filtered"),
        ("scope", "filter"),
        ("filter", "feedback.user_feedback = 'false'"),
    ]
    assert _post_form(server, seeded, "/datasets/add-traces", scoped).status == 303
    records = api(server, "GET", "/filtered/records").json()["records"]
    assert [r["source"]["source_id"] for r in records] == [seeded.trace_id]


@pytest.mark.parametrize(
    ("path", "fields", "status", "text"),
    [
        ("/datasets/add-traces", [("trace_id", "ab" * 16)], 400, "choose a dataset"),
        ("/datasets/add-traces", [("dataset", "golden")], 400, "Select at least one trace"),
        (
            "/datasets/add-traces",
            [("dataset", "golden"), ("trace_id", "nope")],
            400,
            "trace_ids[0]",
        ),
        (
            "/datasets/add-traces",
            [("dataset", "missing"), ("trace_id", "ab" * 16)],
            404,
            "not found",
        ),
        ("/datasets", [("name", "a/b")], 400, "name"),
        ("/datasets", [("name", "golden")], 400, "exists"),
    ],
)
def test_the_forms_reject_bad_input(
    server: LiveServer,
    seeded: Seeded,
    path: str,
    fields: list[tuple[str, str]],
    status: int,
    text: str,
) -> None:
    api(server, "POST", "", {"name": "golden"})
    reply = _post_form(server, seeded, path, fields)
    assert reply.status == status
    assert text in reply.text
    assert [(d["name"], d["version"]) for d in api(server, "GET", "").json()["datasets"]] == [
        ("golden", 0)
    ]


def test_the_forms_need_the_csrf_token(server: LiveServer, seeded: Seeded) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for path, fields in [
        ("/datasets/add-traces", {"dataset": "x", "trace_id": seeded.trace_id}),
        ("/datasets", {"name": "x"}),
    ]:
        body = urllib.parse.urlencode(fields).encode()
        assert request("POST", server.url + path, body, headers).status == 403
    assert api(server, "GET", "").json()["datasets"] == []


def test_every_dataset_route_is_in_the_openapi_document(server: LiveServer) -> None:
    doc = get(server.url + "/api/openapi.json").json()
    for route in api_datasets.routes:
        assert route.path in doc["paths"], route.path
        methods = {m.lower() for m in route.methods or ()} - {"head"}
        assert methods <= set(doc["paths"][route.path]), route.path
    assert {v.split("/")[-1] for v in _refs(doc["paths"])} <= set(doc["components"]["schemas"])
    assert all(r.path.startswith("/datasets") for r in pages_datasets.routes)
