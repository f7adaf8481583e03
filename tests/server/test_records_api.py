"""The records store over REST: ``RemoteStore`` against a live server on loopback behaves
like the file store it serves, and bad input is a 4xx that writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from otelfeedback.errors import ConflictError, InvalidArgumentError, NotFoundError
from otelfeedback.server import create_app
from otelfeedback.store.records import RecordWrite
from otelfeedback.store.remote import RemoteStore
from tests.conftest import open_store
from tests.server.live import LiveServer, get, request, send_json
from tests.store.test_records import EDGE_VALUES


@pytest.fixture
def records_server(store_location: Path | str) -> Iterator[LiveServer]:
    live = LiveServer(create_app(store_location, max_body_bytes=2 * 1024 * 1024))
    yield live
    live.close()


def test_round_trip_matches_the_store(
    records_server: LiveServer, store_location: Path | str
) -> None:
    remote = RemoteStore(records_server.url)
    first = remote.append_record("dataset", "d-1", {"name": "golden"}, author="alice")
    second = remote.append_record("dataset", "d-1", {"name": "gold"}, expected_version=1)
    assert (first.version, second.version, first.created_by) == (1, 2, "alice")
    local = open_store(store_location)
    assert local.record_history("dataset", "d-1") == [first, second]
    assert remote.record_history("dataset", "d-1") == [first, second]
    assert remote.get_record("dataset", "d-1") == second
    assert remote.get_record("dataset", "d-1", version=1) == first
    assert remote.list_records("dataset") == local.list_records("dataset") == [second]
    assert remote.list_records("dataset", as_of=first.sequence) == [first]
    tombstone = remote.delete_record("dataset", "d-1")
    assert tombstone.deleted
    with pytest.raises(NotFoundError):
        remote.get_record("dataset", "d-1")
    assert remote.list_records("dataset", include_deleted=True) == [tombstone]


def test_edge_values_round_trip_over_http(records_server: LiveServer) -> None:
    remote = RemoteStore(records_server.url)
    edge = {k: v for k, v in EDGE_VALUES.items() if k != "large"}  # the body limit is 2 MB
    assert remote.append_record("edge", "e", edge).data == edge
    assert remote.get_record("edge", "e").data == edge


def test_listing_pages_through_a_snapshot(records_server: LiveServer) -> None:
    remote = RemoteStore(records_server.url)
    remote.append_records([RecordWrite("item", f"i{n:05d}", {"n": n}, "p") for n in range(12_000)])
    items = remote.list_records("item", parent="p")
    assert [r.id for r in items] == [f"i{n:05d}" for n in range(12_000)]
    assert remote.list_records("item", parent="other") == []
    page = get(records_server.url + "/api/records/item?limit=10").json()
    assert len(page["records"]) == 10 and page["next_page_token"]
    remote.append_record("item", "z-last", {})  # written between two pages
    token, ids = page["next_page_token"], [r["id"] for r in page["records"]]
    while token:
        rest = get(records_server.url + f"/api/records/item?limit=5000&page_token={token}").json()
        assert rest["as_of"] == page["as_of"]
        ids += [r["id"] for r in rest["records"]]
        token = rest["next_page_token"]
    assert ids == [f"i{n:05d}" for n in range(12_000)]  # as of the first page
    assert remote.list_records("item")[-1].id == "z-last"


def test_changed_after_over_http_matches_the_store(
    records_server: LiveServer, store_location: Path | str
) -> None:
    remote = RemoteStore(records_server.url)
    mark = remote.append_record("item", "a", {"n": 1}, parent="p").sequence
    later = remote.append_record("item", "b", {"n": 1}, parent="p")
    local = open_store(store_location)
    assert remote.list_records("item", parent="p", changed_after=mark) == [later]
    assert local.list_records("item", parent="p", changed_after=mark) == [later]
    reply = get(records_server.url + "/api/records/item?changed_after=soon")
    assert reply.status == 400 and reply.json()["error"]["argument"] == "changed_after"


def test_conflicts_come_back_typed(records_server: LiveServer) -> None:
    remote = RemoteStore(records_server.url)
    remote.append_record("dataset", "d-1", {})
    with pytest.raises(ConflictError) as info:
        remote.append_record("dataset", "d-1", {}, expected_version=0)
    assert (info.value.record_id, info.value.actual_version) == ("d-1", 1)
    reply = send_json(
        "POST",
        records_server.url + "/api/records",
        {"records": [{"kind": "dataset", "id": "d-1", "data": {}, "expected_version": 5}]},
    )
    assert reply.status == 409
    assert reply.json()["error"]["expected_version"] == 5
    with pytest.raises(NotFoundError):
        remote.delete_record("dataset", "missing")


@pytest.mark.parametrize(
    ("body", "argument"),
    [
        ({"records": [{"kind": "a", "id": "b", "data": {"x": float("nan")}}]}, "records[0].data.x"),
        ({"records": [{"kind": "A", "id": "b", "data": {}}]}, "records[0].kind"),
        ({"records": [{"kind": "a", "id": "b/c", "data": {}}]}, "records[0].id"),
        ({"records": [{"kind": "a", "id": "b", "data": []}]}, "records[0].data"),
        ({"records": [{"kind": "a", "id": "b", "datum": {}}]}, "records[0].datum"),
        ({"records": [{"kind": "a", "id": "b", "expected_version": "1"}]}, None),
        ({"records": []}, "records"),
        ({"records": {}}, "records"),
        ({"records": [{"kind": "a", "id": "b"}], "author": 5}, "author"),
        ({"records": [{"kind": "a", "id": "b"}], "extra": 1}, "extra"),
    ],
)
def test_bad_writes_are_400_naming_the_field_and_write_nothing(
    records_server: LiveServer, body: dict[str, object], argument: str | None
) -> None:
    reply = send_json("POST", records_server.url + "/api/records", body)
    assert reply.status == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert error["argument"] == (argument or "records[0].expected_version")
    assert get(records_server.url + "/api/records/a").json()["records"] == []


def test_malformed_bodies_and_queries_are_4xx(records_server: LiveServer) -> None:
    url = records_server.url + "/api/records"
    deep = "[" * 100_000 + "]" * 100_000
    for body, status in [
        (b"not json", 400),
        (b"[1]", 400),
        (deep.encode(), 400),
        (b"{" + b" " * (3 * 1024 * 1024) + b"}", 413),
    ]:
        reply = request("POST", url, body, {"Content-Type": "application/json"})
        assert reply.status == status, (body[:20], reply.text)
    assert request("POST", url, b"{}", {"Content-Type": "text/plain"}).status == 415
    for path in [
        "/api/records/Bad",
        "/api/records/a/b?version=0",
        "/api/records/a/b?version=x",
        "/api/records/a?as_of=-1",
        "/api/records/a?limit=0",
        "/api/records/a?page_token=nope",
        "/api/records/a?include_deleted=maybe",
    ]:
        reply = get(records_server.url + path)
        assert reply.status == 400, (path, reply.text)
        assert json.loads(reply.body)["error"]["code"] == "INVALID_ARGUMENT"
    assert get(records_server.url + "/api/records/a/b").status == 404


def test_a_batch_above_the_body_limit_is_an_argument_error(records_server: LiveServer) -> None:
    remote = RemoteStore(records_server.url)
    with pytest.raises(InvalidArgumentError, match="smaller batches"):
        remote.append_record("big", "b", {"text": "x" * (3 * 1024 * 1024)})
    assert remote.list_records("big") == []


def test_remote_checks_writes_before_sending(records_server: LiveServer) -> None:
    remote = RemoteStore(records_server.url)
    with pytest.raises(InvalidArgumentError) as info:
        remote.append_record("a", "b", {"x": float("inf")})
    assert info.value.argument == "records[0].data.x"


def test_every_records_route_is_in_the_openapi_document(records_server: LiveServer) -> None:
    from otelfeedback.server import api_records

    doc = get(records_server.url + "/api/openapi.json").json()
    for route in api_records.routes:
        assert route.path in doc["paths"], route.path
        assert {m.lower() for m in route.methods or ()} - {"head"} <= set(doc["paths"][route.path])
    schemas = doc["components"]["schemas"]
    refs = {v.split("/")[-1] for v in _refs(doc["paths"])}
    assert refs <= set(schemas)


def _refs(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if "$ref" in value else []
        return found + [r for item in value.values() for r in _refs(item)]
    if isinstance(value, list):
        return [r for item in value for r in _refs(item)]
    return []
