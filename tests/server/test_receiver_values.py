"""The receiver applies the codec's value rule (issue 13): an OTLP/JSON request holding a
value OTLP cannot carry (a lone surrogate, an integer past 64 bits, a time past 2**64 - 1)
is stored repaired, not refused whole; the store stays readable."""

from __future__ import annotations

import json
from typing import Any

from tests.server.live import LiveServer, get, request
from tests.store.otlp_fixtures import request as otlp_request
from tests.store.otlp_fixtures import sid, span, tid

JSON = {"Content-Type": "application/json"}


def _post(live: LiveServer, spans: list[dict[str, Any]]) -> int:
    body = json.dumps(otlp_request(spans)).encode()  # ensure_ascii: escapes surrogates
    return request("POST", live.url + "/v1/traces", body, JSON).status


def test_out_of_range_values_are_stored_repaired(empty_server: LiveServer) -> None:
    bad = span(tid(1), sid(1), "bad \ud800 name")
    bad["attributes"] = [
        {"key": "surrogate", "value": {"stringValue": "a\udfffb"}},
        {"key": "big", "value": {"intValue": str(2**63)}},
        {"key": "bigger", "value": {"intValue": 10**30}},
        {"key": "k\ud800", "value": {"stringValue": "v"}},
    ]
    bad["startTimeUnixNano"] = str(2**70)
    bad["endTimeUnixNano"] = str(2**70)
    good = span(tid(2), sid(2), "good", start_ms=5)
    assert _post(empty_server, [bad, good]) == 200
    traces = get(empty_server.url + "/api/traces").json()["traces"]
    assert {t["info"]["trace_id"] for t in traces} == {tid(1), tid(2)}
    stored = get(empty_server.url + f"/api/traces/{tid(1)}").json()
    (only,) = stored["spans"]
    assert only["name"] == "bad \ufffd name"
    assert only["attributes"]["surrogate"] == "a\ufffdb"
    assert only["attributes"]["big"] == str(2**63)
    assert only["attributes"]["bigger"] == str(10**30)
    assert only["attributes"]["k\ufffd"] == "v"
    assert get(empty_server.url + "/traces").status == 200


def test_a_request_still_malformed_after_repair_is_refused(empty_server: LiveServer) -> None:
    broken = span(tid(3), sid(3))
    broken["startTimeUnixNano"] = "soon"
    broken["attributes"] = [{"key": "x", "value": {"stringValue": "\ud800"}}]
    assert _post(empty_server, [broken]) == 400
