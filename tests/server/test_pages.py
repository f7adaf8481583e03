"""The HTML pages and their JSON twins, and the assessment forms without a browser."""

from __future__ import annotations

import re
import urllib.parse

from tests.server.conftest import RATIONALE, Seeded
from tests.server.live import LiveServer, Reply, get, request


def _form_session(server: LiveServer, trace_id: str) -> tuple[dict[str, str], str]:
    page = get(server.url + f"/traces/{trace_id}")
    cookie = page.headers["set-cookie"].split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, token.group(1)


def post_form(server: LiveServer, path: str, fields: dict[str, str], trace_id: str) -> Reply:
    headers, token = _form_session(server, trace_id)
    body = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
    return request("POST", server.url + path, body, headers)


def test_traces_page_has_one_column_per_assessment_name(server: LiveServer, seeded: Seeded) -> None:
    html = get(server.url + "/traces").text
    assert 'data-column="feedback.user_feedback"' in html
    row = html.split(f'data-trace-id="{seeded.trace_id}"')[1].split("</tr>")[0]
    assert 'data-value="false"' in row
    twin = get(server.url + "/traces?format=json").json()
    assert {"kind": "feedback", "name": "user_feedback"} in [
        {"kind": c["kind"], "name": c["name"]} for c in twin["columns"]
    ]
    # the API's shape: traces[].info
    ids = {t["info"]["trace_id"] for t in twin["traces"]}
    assert ids == {seeded.trace_id, seeded.script_trace_id}


def test_filter_sort_and_paging(server: LiveServer, seeded: Seeded) -> None:
    q = urllib.parse.quote("feedback.user_feedback = 'false'")
    twin = get(server.url + f"/traces?format=json&filter={q}").json()
    assert [t["info"]["trace_id"] for t in twin["traces"]] == [seeded.trace_id]
    first = get(server.url + "/traces?format=json&max_results=1&sort=time&dir=asc").json()
    token = first["next_page_token"]
    second = get(
        server.url + f"/traces?format=json&max_results=1&sort=time&dir=asc&page_token={token}"
    ).json()
    assert second["next_page_token"] is None
    pages = [t["info"]["trace_id"] for t in first["traces"] + second["traces"]]
    assert sorted(pages) == sorted([seeded.trace_id, seeded.script_trace_id])
    slow_first = get(server.url + "/traces?format=json&sort=latency&dir=desc").json()["traces"]
    latencies = [t["info"]["execution_time_ms"] for t in slow_first]
    assert latencies == sorted(latencies, reverse=True)
    html = get(server.url + "/traces?max_results=1&sort=time&dir=asc").text
    assert "Next page" in html


def test_a_bad_filter_is_explained_on_the_page(server: LiveServer) -> None:
    reply = get(server.url + "/traces?filter=" + urllib.parse.quote("feedback.x === 1"))
    assert reply.status == 400
    assert "This filter does not parse" in reply.text and "position" in reply.text


def test_empty_store_tells_a_newcomer_how_to_send_a_trace(empty_server: LiveServer) -> None:
    html = get(empty_server.url + "/traces").text
    assert "No traces yet" in html
    assert "/v1/traces" in html and "otelfeedback.configure" in html


def test_trace_page_shows_the_feedback_and_its_twin(server: LiveServer, seeded: Seeded) -> None:
    html = get(server.url + f"/traces/{seeded.trace_id}").text
    assert "user_feedback" in html and "Missing details about MLflow" in html
    assert "enduser_123" in html
    assert html.count('class="span-row') == 2
    twin = get(server.url + f"/traces/{seeded.trace_id}?format=json").json()
    assert twin["info"]["assessments"][0]["rationale"] == RATIONALE
    deep = get(server.url + f"/traces/{seeded.trace_id}?span={seeded.retriever_span_id}").text
    assert f'id="span-detail" data-span-id="{seeded.retriever_span_id}"' in deep
    assert get(server.url + "/traces/" + "ef" * 16).status == 404


def test_form_creates_a_human_assessment_and_a_new_column(
    server: LiveServer, seeded: Seeded
) -> None:
    fields = {
        "kind": "feedback",
        "name": "accuracy_score",
        "value_type": "number",
        "value": "0.8",
        "rationale": "close enough",
        "reviewer": "dev@example.com",
        "span_id": seeded.retriever_span_id,
    }
    path = f"/traces/{seeded.trace_id}/assessments"
    reply = post_form(server, path, fields, seeded.trace_id)
    assert reply.status == 303
    assert reply.headers["location"].endswith(f"?span={seeded.retriever_span_id}#assessments")
    assert "otelfeedback_reviewer=dev%40example.com" in reply.headers["set-cookie"]
    trace = get(server.url + f"/api/traces/{seeded.trace_id}").json()
    new = next(a for a in trace["info"]["assessments"] if a["name"] == "accuracy_score")
    assert new["value"] == 0.8 and new["span_id"] == seeded.retriever_span_id
    assert new["source"] == {"source_type": "HUMAN", "source_id": "dev@example.com"}
    assert 'data-column="feedback.accuracy_score"' in get(server.url + "/traces").text


def test_form_errors_are_shown_with_the_values_kept(server: LiveServer, seeded: Seeded) -> None:
    fields = {
        "kind": "feedback",
        "name": "score",
        "value_type": "number",
        "value": "lots",
        "reviewer": "dev",
    }
    reply = post_form(server, f"/traces/{seeded.trace_id}/assessments", fields, seeded.trace_id)
    assert reply.status == 400
    assert "is not a number" in reply.text and 'value="score"' in reply.text
    no_name = {**fields, "value": "1", "reviewer": ""}
    reply = post_form(server, f"/traces/{seeded.trace_id}/assessments", no_name, seeded.trace_id)
    assert reply.status == 400 and "Your name" in reply.text


def test_editing_someone_elses_feedback_overrides_it(server: LiveServer, seeded: Seeded) -> None:
    aid = get(server.url + f"/api/traces/{seeded.trace_id}").json()["info"]["assessments"][0][
        "assessment_id"
    ]
    fields = {"value_type": "boolean", "value_bool": "true", "rationale": "fine", "reviewer": "dev"}
    reply = post_form(
        server, f"/traces/{seeded.trace_id}/assessments/{aid}/edit", fields, seeded.trace_id
    )
    assert reply.status == 303
    items = get(server.url + f"/api/traces/{seeded.trace_id}").json()["info"]["assessments"]
    by_valid = {a["valid"]: a for a in items}
    assert by_valid[False]["assessment_id"] == aid
    assert by_valid[True]["overrides"] == aid and by_valid[True]["value"] is True
    html = get(server.url + f"/traces/{seeded.trace_id}").text
    assert "Overrode 1 earlier assessment" in html
    # editing your own is an update in place
    mine = by_valid[True]["assessment_id"]
    fields["rationale"] = "on second thought"
    post_form(server, f"/traces/{seeded.trace_id}/assessments/{mine}/edit", fields, seeded.trace_id)
    items = get(server.url + f"/api/traces/{seeded.trace_id}").json()["info"]["assessments"]
    assert len(items) == 2
    # delete restores the overridden one
    reply = post_form(
        server, f"/traces/{seeded.trace_id}/assessments/{mine}/delete", {}, seeded.trace_id
    )
    assert reply.status == 303
    items = get(server.url + f"/api/traces/{seeded.trace_id}").json()["info"]["assessments"]
    assert [(a["assessment_id"], a["valid"]) for a in items] == [(aid, True)]


def test_static_files_are_versioned_and_cached(server: LiveServer) -> None:
    html = get(server.url + "/traces").text
    css = re.search(r'href="(/static/[0-9a-f]+/app.css)"', html)
    assert css is not None
    reply = get(server.url + css.group(1))
    assert reply.status == 200 and "immutable" in reply.headers["cache-control"]
    assert get(server.url + "/static/x/../../etc/passwd").status == 404
