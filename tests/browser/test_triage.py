"""Daily triage in a real Chromium over a realistic store (``realistic.py``): density,
search (words, the grammar, non-ASCII), the column chooser, previous / next, the LLM
header, phones and the keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest

from tests.browser.realistic import JUDGE_RATIONALE, Realistic, seed_realistic
from tests.server.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Realistic:
    return seed_realistic(tmp_path_factory.mktemp("realistic") / "store")


@pytest.fixture(scope="module")
def live(real: Realistic) -> Iterator[LiveServer]:
    from otelfeedback.server import create_app

    server = LiveServer(create_app(real.store))
    yield server
    server.close()


def ids_on_page(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#traces-table tbody tr", "rows => rows.map(r => r.dataset.traceId)"
    )


def search(page: Any, live: LiveServer, text: str) -> None:
    page.goto(live.url + "/traces")
    page.fill("#q", text)
    with page.expect_navigation():
        page.press("#q", "Enter")


def test_twenty_one_line_rows_fit_a_laptop_screen_with_assessments_beside_the_name(
    page: Any, live: LiveServer, real: Realistic, shot: Any
) -> None:
    page.goto(live.url + "/traces")
    shot(page, "triage-traces")
    fully_visible = page.evaluate(
        "Array.from(document.querySelectorAll('#traces-table tbody tr'))"
        ".filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length"
    )
    assert fully_visible >= 20
    heights = page.eval_on_selector_all(
        "#traces-table tbody tr", "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    assert max(heights) < 34  # one line each, even with a 17 KB input
    # every assessment column starts before the request preview
    request_x = page.locator('th[data-column="request"]').bounding_box()["x"]
    for name in ("user_feedback", "correctness", "expected_response"):
        header = page.locator(f'th[data-column$=".{name}"]')
        assert header.bounding_box()["x"] < request_x
    # previews are the user's question and the answer, not the arguments' JSON
    first = page.locator(f'tr[data-trace-id="{real.trace_ids[1]}"]')
    assert first.locator("td.col-request").inner_text() == "Can I change the delivery address?"
    assert "arrives tomorrow" in first.locator("td.col-response").inner_text()
    # the error column says what failed
    failed = sorted(real.failed, key=real.trace_ids.index)[0]
    error_cell = page.locator(f'tr[data-trace-id="{failed}"] td.col-error')
    assert "carrier API timed out" in error_cell.inner_text()
    # the header stays in view while the rows scroll
    page.evaluate("window.scrollTo(0, 900)")
    assert page.evaluate("window.scrollY") > 500
    top = page.locator("#traces-table thead th").first.bounding_box()["y"]
    assert 40 <= top <= 60
    # total count, summary strip, previous page
    assert "1–50 of 200" in page.locator(".pager").inner_text()
    assert page.locator('[data-summary="volume"]').inner_text() == "200"
    assert page.locator('[data-summary="errors"]').inner_text() == "10%"
    page.locator('.pager a[rel="next"]').click()
    page.wait_for_url("**page=2")
    assert "51–100 of 200" in page.locator(".pager").inner_text()
    with page.expect_navigation():
        page.locator('.pager a[rel="prev"]').click()
    assert ids_on_page(page)[:3] == real.trace_ids[:3]


def test_plain_words_search_the_text(page: Any, live: LiveServer, real: Realistic) -> None:
    search(page, live, "Straße gesperrt")
    assert set(ids_on_page(page)) == real.asking("Straße ist gesperrt")
    assert "Straße" in page.locator("#search-help").inner_text()
    assert all("Straße" in t for t in page.locator("td.col-request").all_inner_texts())
    # the grammar still works in the same box
    search(page, live, "trace.status = 'ERROR'")
    assert set(ids_on_page(page)) == real.failed


@pytest.mark.parametrize(("text", "attribute"), [("東京", "tokyo"), ("🚀", "rocket")])
def test_short_non_ascii_patterns_are_found(
    page: Any, live: LiveServer, real: Realistic, text: str, attribute: str
) -> None:
    search(page, live, text)
    expected = getattr(real, attribute)
    assert len(expected) in (7, 8)
    assert set(ids_on_page(page)) == expected


def test_search_folds_case_beyond_ascii(page: Any, live: LiveServer, real: Realistic) -> None:
    search(page, live, "ÉCOLE")
    assert set(ids_on_page(page)) == real.asking("école")


def test_autocomplete_suggests_fields_and_assessment_names(
    page: Any, live: LiveServer, real: Realistic
) -> None:
    page.goto(live.url + "/traces")
    page.click("#q")
    page.keyboard.type("feedback.user")
    option = page.locator("#q-suggestions li", has_text="feedback.user_feedback")
    assert option.is_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#q") == "feedback.user_feedback "
    # after a field: its operators
    assert page.locator("#q-suggestions li", has_text="ILIKE").is_visible()
    page.keyboard.type("= false")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert set(ids_on_page(page)) == real.thumbs_down


def test_click_to_filter_on_a_chip_a_tag_and_a_session(
    page: Any, live: LiveServer, real: Realistic
) -> None:
    page.goto(live.url + "/traces")
    chip = page.locator('td[data-column="feedback.user_feedback"] a.chip-link', has_text="false")
    with page.expect_navigation():
        chip.first.click()
    assert set(ids_on_page(page)) == real.thumbs_down
    assert page.input_value("#q") == "feedback.user_feedback = false"
    with page.expect_navigation():
        page.locator("td.col-tags a.tag", has_text="version: 1.1").first.click()
    assert page.input_value("#q") == "feedback.user_feedback = false AND tags.version = '1.1'"
    assert 0 < len(ids_on_page(page)) < len(real.thumbs_down)
    # a session link on the trace page lists that session's traces
    trace_id = real.trace_ids[0]
    page.goto(live.url + f"/traces/{trace_id}")
    with page.expect_navigation():
        page.click("#session-link")
    expected = {t for t, s in real.sessions.items() if s == real.sessions[trace_id]}
    assert set(ids_on_page(page)) == expected


def test_time_range_narrows_the_table_and_the_summary(page: Any, live: LiveServer) -> None:
    page.goto(live.url + "/traces")
    page.select_option("#range", "1h")
    page.wait_for_url("**range=1h**")
    count = int(page.locator('[data-summary="volume"]').inner_text())
    assert 35 <= count <= 41  # one trace every 90 s
    assert f"of {count}" in page.locator(".pager").inner_text()


def test_column_chooser_is_remembered_in_this_browser(
    browser: Any, live: LiveServer, shot: Any
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(live.url + "/traces?q=Where")
    page.click("#column-chooser > summary")
    page.locator('#column-chooser input[value="feedback.relevance"]').uncheck()
    page.locator('#column-chooser input[value="user"]').check()
    shot(page, "column-chooser")
    with page.expect_navigation():
        page.locator("#column-chooser button[type=submit]").click()
    assert page.locator('th[data-column="feedback.relevance"]').count() == 0
    assert page.locator('th[data-column="user"]').count() == 1
    assert page.input_value("#q") == "Where"  # the search is kept
    page.goto(live.url + "/traces?page=2")
    assert page.locator('th[data-column="feedback.relevance"]').count() == 0
    context.close()
    other = browser.new_context(viewport={"width": 1440, "height": 900})
    fresh = other.new_page()
    fresh.goto(live.url + "/traces")
    assert fresh.locator('th[data-column="feedback.relevance"]').count() == 1
    assert fresh.locator('th[data-column="user"]').count() == 0
    other.close()


def test_previous_and_next_keep_the_filter_sort_and_page(
    page: Any, live: LiveServer, real: Realistic
) -> None:
    q = quote("feedback.user_feedback = false")
    page.goto(live.url + f"/traces?q={q}&sort=latency&max_results=10&page=2")
    listed = ids_on_page(page)
    with page.expect_navigation():
        page.locator(f'tr[data-trace-id="{listed[3]}"] a.trace-link').click()
    assert page.url.split("?")[0].endswith(listed[3])
    with page.expect_navigation():
        page.locator("#next-trace").click()
    assert page.url.split("?")[0].endswith(listed[4])
    page.keyboard.press("k")  # previous, from the keyboard
    page.wait_for_url(re.compile(f"/traces/{listed[3]}"))
    page.keyboard.press("j")
    page.wait_for_url(re.compile(f"/traces/{listed[4]}"))
    # across the page boundary: the last of page 2 has the first of page 3 as next
    page.goto(live.url + f"/traces?q={q}&sort=latency&max_results=10&page=2")
    with page.expect_navigation():
        page.locator(f'tr[data-trace-id="{listed[-1]}"] a.trace-link').click()
    with page.expect_navigation():
        page.locator("#next-trace").click()
    next_id = urlparse(page.url).path.rsplit("/", 1)[1]
    assert next_id in real.thumbs_down and next_id not in listed
    with page.expect_navigation():
        page.click("#back-to-list")
    query = parse_qs(urlparse(page.url).query)
    assert query["q"] == ["feedback.user_feedback = false"]
    assert query["sort"] == ["latency"] and query["page"] == ["3"]
    assert next_id in ids_on_page(page)


def test_the_llm_span_header_shows_model_tokens_latency_and_cost(
    page: Any, live: LiveServer, real: Realistic, shot: Any
) -> None:
    trace_id = real.trace_ids[0]  # n = 0: gpt-4o-mini, 1,200 tokens in, 40 out
    page.goto(live.url + f"/traces/{trace_id}?span={real.llm_span[trace_id]}")
    shot(page, "llm-span")
    header = page.locator("#model-call")
    assert header.locator('[data-fact="model"]').inner_text().startswith("gpt-4o-mini-2024-08-06")
    assert header.locator('[data-fact="tokens"]').inner_text() == "1,200 / 40"
    assert header.locator('[data-fact="latency"]').inner_text() == "420 ms"
    # gpt-4o-mini: $0.15 / $0.60 per million tokens
    assert header.locator('[data-fact="cost"]').inner_text() == "$0.000204"
    params = header.locator('[data-fact="parameters"]').inner_text()
    assert "temperature 0.2" in params and "max_tokens 512" in params
    # the tool call is readable: its name and arguments, not a collapsed JSON tree
    call = page.locator("#outputs .tool-call")
    assert call.locator(".tool-name").inner_text() == "get_order_status"
    assert "order_id" in call.inner_text() and "1000" in call.inner_text()
    # the tree row shows the span's tokens and its assessment value
    row = page.locator(f'.span-row[data-span-id="{real.llm_span[trace_id]}"]')
    assert "1,200 → 40 tok" in row.inner_text()
    assert "correctness 0.5" in row.inner_text()
    # the judge's rationale and value are readable in full on the card
    card = page.locator('#assessments-here .assessment[data-name="correctness"]')
    assert card.locator(".rationale").inner_text() == JUDGE_RATIONALE
    # a retriever shows its documents with scores
    with page.expect_navigation():
        page.locator(".span-row", has_text="search_kb").locator("a.span-link").click()
    docs = page.locator("#outputs .document")
    assert docs.count() == 3
    assert docs.first.locator(".doc-score").inner_text() == "score 0.91"


def test_long_inputs_are_clamped_and_messages_collapse(
    page: Any, live: LiveServer, real: Realistic
) -> None:
    trace_id = real.trace_ids[11]  # a 17 KB order history in the conversation
    page.goto(live.url + f"/traces/{trace_id}")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2600
    long_message = page.locator("#inputs .msg-user .msg-text.clamped").first
    assert long_message.is_visible()
    button = page.locator("#inputs .msg-user .show-more").first
    button.click()
    assert button.inner_text() == "Show less"
    assert page.evaluate("document.documentElement.scrollHeight") > height
    system = page.locator("#inputs .msg-system details")
    assert system.get_attribute("open") is None  # a long system prompt starts collapsed
    system.locator("summary").click()
    assert system.get_attribute("open") is not None


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    yield context.new_page()
    context.close()


def test_phone_layout_has_no_sideways_scroll_and_a_wide_detail(
    phone: Any, live: LiveServer, real: Realistic, shot: Any
) -> None:
    phone.goto(live.url + "/traces")
    shot(phone, "phone-traces")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.locator("a.trace-link").first.is_visible()
    trace_id = real.trace_ids[0]
    phone.goto(live.url + f"/traces/{trace_id}?span={real.llm_span[trace_id]}")
    shot(phone, "phone-trace")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.locator(".detail").bounding_box()["width"] >= 340
    assert phone.locator("#model-call").is_visible()


def test_keyboard_alone_from_the_table_to_a_saved_feedback(
    page: Any, live: LiveServer, real: Realistic
) -> None:
    trace_id = real.trace_ids[1]
    page.goto(live.url + "/traces")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the traces"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    if page.evaluate("document.activeElement.matches('.js-select-row')"):
        page.keyboard.press("ArrowDown")  # the selection boxes move by row too
        assert page.evaluate("document.activeElement.value") == real.trace_ids[1]
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Tab")  # past the box to the trace's link
    focused = page.evaluate("document.activeElement.closest('tr')?.dataset.traceId")
    assert focused == real.trace_ids[0]
    assert page.evaluate("document.activeElement.matches('a.trace-link')")
    page.keyboard.press("ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(f"/traces/{trace_id}", page.url)
    # two skip links: to the selected span, and to the add form
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the selected span"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to add feedback"
    # into the span tree, then change span twice: focus stays on the chosen span each time
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('span-link')"):
            break
    for _ in range(2):
        page.keyboard.press("Tab")  # the next span
        chosen = page.evaluate("document.activeElement.closest('.span-row').dataset.spanId")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.closest('.span-row')?.dataset.spanId") == (
            chosen
        )
    assert chosen == real.llm_span[trace_id]
    # "a" opens the add form on the selected span, the cursor in its first field
    page.keyboard.press("a")
    assert page.evaluate("document.activeElement.id") == "new-name"
    page.keyboard.type("triage_label")
    page.keyboard.press("Tab")  # the value type: switch to text with the keyboard
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "value"
    page.keyboard.type("wrong carrier")
    page.keyboard.press("Tab")
    page.keyboard.type("Tracking shows another carrier")
    page.keyboard.press("Tab")
    page.keyboard.type("triager@example.com")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("#assessments")
    card = page.locator('#assessments .assessment[data-name="triage_label"]')
    assert "wrong carrier" in card.inner_text()
    assert page.evaluate("document.activeElement.id") == "assessments"
