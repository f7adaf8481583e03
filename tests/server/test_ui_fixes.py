"""The traces UI's reported defects (issue 14, item 9) and the server pieces behind the new
UI (list state in the URL, the search box, prices), over HTTP on a live server."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

from otelfeedback.errors import ConfigurationError
from otelfeedback.server.list_state import ListState
from otelfeedback.server.pricing import load_prices
from otelfeedback.server.search_box import looks_like_filter, read_search
from otelfeedback.server.span_facts import format_number, money
from otelfeedback.store.query import parse_filter
from tests.server.conftest import Seeded
from tests.server.live import LiveServer, get
from tests.server.test_pages import post_form


def test_a_rejected_forms_url_reopened_goes_to_the_trace(
    server: LiveServer, seeded: Seeded
) -> None:
    for path in ("assessments", "assessments/a-" + "0" * 32 + "/edit"):
        reply = get(server.url + f"/traces/{seeded.trace_id}/{path}")
        assert reply.status == 303
        assert reply.headers["location"] == f"/traces/{seeded.trace_id}"


def test_a_bad_page_token_is_not_called_a_filter_error(server: LiveServer) -> None:
    reply = get(server.url + "/traces?page_token=garbage")
    assert reply.status == 400
    assert "page link is no longer valid" in reply.text
    assert "does not parse" not in reply.text
    twin = get(server.url + "/traces?format=json&page_token=garbage").json()
    assert "page_token" in twin["filter_error"]


@pytest.mark.parametrize(
    ("query", "argument"),
    [("dir=sideways", "dir"), ("sort=mood", "sort"), ("range=2y", "range"), ("page=0", "page")],
)
def test_unknown_list_parameters_are_refused(server: LiveServer, query: str, argument: str) -> None:
    reply = get(server.url + f"/traces?{query}")
    assert reply.status == 400
    assert argument in reply.text
    assert get(server.url + f"/traces?{query}&format=json").json()["error"]["argument"] == argument


def test_an_unknown_span_is_said_and_the_root_shown(server: LiveServer, seeded: Seeded) -> None:
    reply = get(server.url + f"/traces/{seeded.trace_id}?span=" + "f" * 16)
    assert reply.status == 404
    assert 'id="missing-span"' in reply.text and "f" * 16 in reply.text
    assert f'id="span-detail" data-span-id="{seeded.root_span_id}"' in reply.text


def test_numbers_are_shown_as_written(server: LiveServer, seeded: Seeded) -> None:
    fields = {
        "kind": "feedback",
        "name": "big",
        "value_type": "number",
        "value": "1234567.5",
        "reviewer": "dev",
    }
    post_form(server, f"/traces/{seeded.trace_id}/assessments", fields, seeded.trace_id)
    assert "1234567.5" in get(server.url + "/traces").text
    assert "1.23457e+06" not in get(server.url + f"/traces/{seeded.trace_id}").text
    assert [format_number(v) for v in (1234567.5, 0.1 + 0.2, 1e-7, 3.0, float("nan"))] == [
        "1234567.5",
        "0.3",
        "1e-07",
        "3",
        "NaN",
    ]


def test_api_404_messages_keep_their_quotes(server: LiveServer, seeded: Seeded) -> None:
    missing = "a-" + "0" * 32
    reply = get(server.url + f"/api/traces/{seeded.trace_id}/assessments/{missing}")
    assert reply.status == 404
    message = reply.json()["error"]["message"]
    assert message.endswith(f"'{seeded.trace_id}'")


def test_an_unset_span_status_reads_like_its_traces(tmp_path: Path) -> None:
    from otelfeedback.server import create_app
    from tests.store.otlp_fixtures import append, line, sid, span, tid

    # spans as another SDK writes them: no status set (OTel's default, "no error")
    append(tmp_path, line([span(tid(1), sid(1), "root"), span(tid(1), sid(2), "child", sid(1))]))
    live = LiveServer(create_app(tmp_path))
    try:
        html = get(live.url + f"/traces/{tid(1)}?span={sid(2)}").text
    finally:
        live.close()
    assert "Unset" not in html
    assert 'title="No error recorded (the span\'s status is unset)">✓ OK' in html


def test_form_fields_have_limits_and_friendly_messages(server: LiveServer, seeded: Seeded) -> None:
    html = get(server.url + f"/traces/{seeded.trace_id}").text
    assert 'name="name" list="assessment-names" required maxlength="250"' in html
    assert 'name="rationale" rows="3" maxlength="65536"' in html
    assert 'class="field value-input-text"' in html and 'value-text"' not in html
    fields = {
        "kind": "feedback",
        "name": "n" * 251,
        "value_type": "boolean",
        "value_bool": "true",
        "reviewer": "dev",
    }
    reply = post_form(server, f"/traces/{seeded.trace_id}/assessments", fields, seeded.trace_id)
    assert reply.status == 400 and "Name: at most 250 characters (251 given)" in reply.text


def test_the_json_twin_has_the_apis_shape(server: LiveServer, seeded: Seeded) -> None:
    twin = get(server.url + "/traces?format=json").json()
    api = get(server.url + "/api/traces").json()
    assert [t["info"]["trace_id"] for t in twin["traces"]] == [
        t["info"]["trace_id"] for t in api["traces"]
    ]
    assert twin["total"] == 2 and twin["summary"]["count"] == 2


def test_plain_words_become_full_text_filters_that_parse() -> None:
    for text in ("refund policy", "100% sure", "it's a_b \\x", '"exact phrase" 東京', "status"):
        search = read_search(text)
        assert search.mode == "words", text
        assert search.filter is not None
        parse_filter(search.filter)
    assert read_search("100% sure").filter == (
        "trace.text ILIKE '%100\\\\%%' AND trace.text ILIKE '%sure%'"
    )
    assert read_search("feedback.x = true").mode == "filter"
    assert looks_like_filter("trace.execution_time_ms > ") and not looks_like_filter("how is it")
    broken = read_search("trace.execution_time_ms > 'slow'")
    assert broken.filter is None and broken.error is not None


def test_words_search_finds_the_literal_text(server: LiveServer, seeded: Seeded) -> None:
    q = urllib.parse.quote("<b>hello</b>")
    twin = get(server.url + f"/traces?format=json&q={q}").json()
    assert [t["info"]["trace_id"] for t in twin["traces"]] == [seeded.script_trace_id]


def test_list_state_round_trips_and_combines_filters() -> None:
    state = ListState.parse({"q": "refund", "sort": "latency", "page": "3", "range": "24h"}, 10**12)
    assert ListState.parse(dict(urllib.parse.parse_qsl(state.query())), 10**12) == state
    assert state.store_filter() == (
        "(trace.text ILIKE '%refund%') AND trace.timestamp_ms >= 999913600000"
    )
    narrowed = state.filter_url("tags.env = 'prod'")
    assert "tags.env+%3D+%27prod%27" in narrowed and "page=" not in narrowed
    opened = state.trace_url("ab" * 16, 7)
    back = urllib.parse.parse_qs(urllib.parse.urlparse(opened).query)
    assert back["i"] == ["7"] and ListState.from_list_param(back["list"][0], 10**12) == state


def test_prices_match_by_prefix_and_can_be_overridden(tmp_path: Path) -> None:
    table = load_prices()
    assert table.cost("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)
    assert table.cost("openai/gpt-4o", 0, 1_000_000) == pytest.approx(10.0)
    assert table.cost("my-own-model", 10, 10) is None
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"my-own-model": {"input": 1, "output": 2}}))
    custom = load_prices(path)
    assert custom.cost("my-own-model-v2", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert custom.cost("gpt-4o", 1_000_000, 0) == pytest.approx(2.5)  # built-ins kept
    path.write_text(json.dumps({"x": {"input": "cheap"}}))
    with pytest.raises(ConfigurationError, match="per million tokens"):
        load_prices(path)
    with pytest.raises(ConfigurationError, match="prices"):
        load_prices(tmp_path / "missing.json")
    assert [money(v) for v in (None, 0, 0.000204, 0.0123, 12.5)] == [
        "—",
        "$0",
        "$0.000204",
        "$0.0123",
        "$12.50",
    ]


def test_prices_come_from_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"house-llm": [0.5, 1.5]}))
    monkeypatch.setenv("OTELFEEDBACK_MODEL_PRICES", str(path))
    assert load_prices().cost("house-llm", 2_000_000, 0) == pytest.approx(1.0)
    from otelfeedback.server import create_app

    monkeypatch.setenv("OTELFEEDBACK_MODEL_PRICES", str(tmp_path / "nope.json"))
    with pytest.raises(ConfigurationError):
        create_app(tmp_path / "store")
