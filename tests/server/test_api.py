"""The JSON API: search and get traces, create/update/override/delete assessments."""

from __future__ import annotations

import otelfeedback
from tests.server.conftest import RATIONALE, Seeded
from tests.server.live import LiveServer, get, request, send_json


def test_search_uses_the_filter_grammar(server: LiveServer, seeded: Seeded) -> None:
    page = get(server.url + "/api/traces?filter=feedback.user_feedback%20%3D%20%27false%27")
    assert page.status == 200
    (trace,) = page.json()["traces"]
    assert trace["info"]["trace_id"] == seeded.trace_id
    assert "spans" not in trace
    everything = get(server.url + "/api/traces?include_spans=true&max_results=1").json()
    assert len(everything["traces"]) == 1 and everything["traces"][0]["spans"]
    assert everything["next_page_token"]
    rest = get(server.url + f"/api/traces?max_results=1&page_token={everything['next_page_token']}")
    assert rest.status == 200 and len(rest.json()["traces"]) == 1


def test_a_bad_filter_gets_400_pointing_at_the_token(server: LiveServer) -> None:
    reply = get(server.url + "/api/traces?filter=feedback.user_feedback%20%3D%3D%3D%20x")
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["code"] == "INVALID_FILTER"
    assert "position" in error["message"]
    assert get(server.url + "/api/traces?max_results=0").status == 400
    assert get(server.url + "/api/traces?order_by=bogus").status == 400


def test_get_trace_has_spans_and_the_feedback(server: LiveServer, seeded: Seeded) -> None:
    data = get(server.url + f"/api/traces/{seeded.trace_id}").json()
    (feedback,) = data["info"]["assessments"]
    assert feedback["name"] == "user_feedback" and feedback["value"] is False
    assert feedback["rationale"] == RATIONALE
    assert feedback["source"] == {"source_type": "HUMAN", "source_id": "enduser_123"}
    assert {s["name"] for s in data["spans"]} == {"my_chatbot", "retrieve_context"}
    span = get(server.url + f"/api/traces/{seeded.trace_id}/spans/{seeded.retriever_span_id}")
    assert span.json()["span_type"] == "RETRIEVER"


def test_unknown_or_malformed_ids(server: LiveServer) -> None:
    missing = get(server.url + "/api/traces/" + "ab" * 16)
    assert missing.status == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    malformed = get(server.url + "/api/traces/not-a-trace-id")
    assert malformed.status == 400
    assert malformed.json()["error"]["argument"] == "trace_id"


def test_create_on_a_span_then_read_back_with_the_sdk(server: LiveServer, seeded: Seeded) -> None:
    url = server.url + f"/api/traces/{seeded.trace_id}/assessments"
    body = {
        "name": "accuracy_score",
        "value": 0.75,
        "rationale": "mostly right",
        "source": {"source_type": "HUMAN", "source_id": "dev@example.com"},
        "span_id": seeded.retriever_span_id,
    }
    reply = send_json("POST", url, body)
    assert reply.status == 201, reply.text
    created = reply.json()
    assert created["kind"] == "feedback" and created["span_id"] == seeded.retriever_span_id
    # the SDK reads the same record from the store
    sdk = otelfeedback.get_assessment(seeded.trace_id, created["assessment_id"])
    assert sdk.to_dict() == created
    expectation = send_json("POST", url, {"kind": "expectation", "name": "expected", "value": [1]})
    assert expectation.status == 201
    assert expectation.json()["source"]["source_type"] == "HUMAN"
    listed = get(url).json()["assessments"]
    assert {a["name"] for a in listed} == {"user_feedback", "accuracy_score", "expected"}


def test_bad_assessment_bodies_get_400_or_415(server: LiveServer, seeded: Seeded) -> None:
    url = server.url + f"/api/traces/{seeded.trace_id}/assessments"
    no_value = send_json("POST", url, {"name": "x"})
    assert no_value.status == 400 and no_value.json()["error"]["argument"] == "value"
    unknown = send_json("POST", url, {"name": "x", "value": 1, "colour": "red"})
    assert unknown.status == 400 and unknown.json()["error"]["argument"] == "colour"
    bad_source = send_json("POST", url, {"value": 1, "source": {"source_type": "ROBOT"}})
    assert bad_source.status == 400
    form = request("POST", url, b"name=x&value=1", {"Content-Type": "text/plain"})
    assert form.status == 415
    bad_span = send_json("POST", url, {"value": 1, "span_id": "00" * 7 + "01"})
    assert bad_span.status == 404
    other_trace = server.url + "/api/traces/" + "cd" * 16 + "/assessments"
    assert send_json("POST", other_trace, {"value": 1}).status == 404


def test_update_override_and_delete_keep_history(server: LiveServer, seeded: Seeded) -> None:
    trace_url = server.url + f"/api/traces/{seeded.trace_id}"
    original = get(trace_url).json()["info"]["assessments"][0]
    aid = original["assessment_id"]

    updated = send_json("PATCH", f"{trace_url}/assessments/{aid}", {"rationale": "edited"})
    assert updated.status == 200 and updated.json()["rationale"] == "edited"

    override = send_json(
        "POST",
        f"{trace_url}/assessments/{aid}/override",
        {"value": True, "rationale": "it was fine", "source": {"source_id": "reviewer"}},
    )
    assert override.status == 201, override.text
    new = override.json()
    assert new["overrides"] == aid and new["source"]["source_type"] == "HUMAN"
    states = {a["assessment_id"]: a["valid"] for a in get(trace_url).json()["info"]["assessments"]}
    assert states == {aid: False, new["assessment_id"]: True}

    assert request("DELETE", f"{trace_url}/assessments/{new['assessment_id']}").status == 204
    states = {a["assessment_id"]: a["valid"] for a in get(trace_url).json()["info"]["assessments"]}
    assert states == {aid: True}
    # idempotent
    assert request("DELETE", f"{trace_url}/assessments/{new['assessment_id']}").status == 204
    assert get(f"{trace_url}/assessments/{new['assessment_id']}").status == 404


def test_openapi_document_lists_the_routes(server: LiveServer) -> None:
    doc = get(server.url + "/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/traces", "/api/traces/{trace_id}/assessments", "/v1/traces"} <= set(doc["paths"])
