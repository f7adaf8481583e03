"""Step 5 in a real browser: an expert labels from a signed link with the keyboard alone,
the developer sees the labels as columns, bad links and bad answers are refused, two
reviewers' agreement is shown, and traces are selected into a session from the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback.labeling import (
    InputNumeric,
    LabelingSession,
    create_label_schema,
    create_labeling_session,
    links,
)
from otelfeedback.store import FileStore
from tests.labeling.conftest import more_traces, step5_schemas
from tests.server.conftest import Seeded, seed
from tests.server.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def review_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Seeded, LabelingSession, LiveServer, list[str]]]:
    from otelfeedback.server import create_app

    seeded = seed(tmp_path / "store")
    step5_schemas()
    extra = more_traces(2)
    session = create_labeling_session(
        "quickstart_review",
        label_schemas=["response_accuracy", "expected_response"],
        reviewers_per_item=2,
    )
    session.add_traces([seeded.trace_id])
    otelfeedback.flush()
    server = LiveServer(create_app(seeded.store))
    monkeypatch.setenv("OTELFEEDBACK_SERVER_URL", server.url)
    yield seeded, session, server, extra
    server.close()


def test_an_expert_labels_with_the_keyboard_and_the_labels_become_columns(
    page: Any, review_setup: Any, shot: Any
) -> None:
    seeded, session, server, _ = review_setup
    page.goto(session.reviewer_url("expert@example.com"))
    page.wait_for_selector("#label-form")
    assert page.locator("#position").inner_text() == "1 of 1"
    assert "What is MLflow?" in page.locator("#conversation").inner_text()
    assert "enduser_123" in page.locator("#existing-assessments").inner_text()
    shot(page, "review-item")
    page.keyboard.press("2")  # Partially Accurate
    assert page.locator('input[name="label-0"][value="Partially Accurate"]').is_checked()
    page.keyboard.press("Tab")  # to the expected response
    page.keyboard.type("MLflow also has Projects and the Model Registry.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#review-done")
    assert "All done" in page.locator("#review-done").inner_text()
    shot(page, "review-done")

    page.goto(server.url + "/traces")
    row = page.locator(f'tr[data-trace-id="{seeded.trace_id}"]')
    accuracy = row.locator('td[data-column="feedback.response_accuracy"]')
    expected = row.locator('td[data-column="expectation.expected_response"]')
    assert accuracy.inner_text().strip() == "Partially Accurate"
    assert "MLflow also has Projects" in expected.inner_text()
    assert page.locator('th[data-column="feedback.response_accuracy"]').is_visible()
    shot(page, "traces-with-labels")


def test_expired_and_tampered_links_get_a_403_page(browser: Any, review_setup: Any) -> None:
    seeded, session, server, _ = review_setup
    page = browser.new_context().new_page()  # (Chromium logs the 403 of a page as an error)
    store = FileStore(seeded.store)
    expired = links.link_url(server.url, links.sign(store, session.labeling_session_id, "a", 60))
    tampered = session.reviewer_url("alice")[:-3] + "xyz"
    for url, words in [(expired, "has expired"), (tampered, "does not work")]:
        response = page.goto(url)
        assert response.status == 403
        assert words in page.locator("h1").inner_text()
        assert page.locator("#label-form").count() == 0


def test_an_out_of_schema_value_is_refused_with_a_message(
    browser: Any, tmp_path: Path, shot: Any
) -> None:
    from otelfeedback.server import create_app

    page = browser.new_context().new_page()  # (Chromium logs the 400 of a page as an error)
    seeded = seed(tmp_path / "store")
    create_label_schema("score", title="Score from 1 to 5", input=InputNumeric(1, 5))
    session = create_labeling_session("scores", label_schemas=["score"])
    session.add_traces(seeded.trace_id)
    otelfeedback.flush()
    server = LiveServer(create_app(seeded.store))
    try:
        page.goto(
            links.link_url(
                server.url,
                links.sign(FileStore(seeded.store), session.labeling_session_id, "expert", 2**40),
            )
        )
        page.locator('input[name="label-0"]').fill("9")
        page.locator("#submit-next").click()
        page.wait_for_selector("#error-0")
        assert page.locator("#error-0").inner_text() == "must be at most 5, got 9"
        assert page.locator('input[name="label-0"]').input_value() == "9"
        shot(page, "review-error")
        page.locator('input[name="label-0"]').fill("4")
        page.locator("#submit-next").click()
        page.wait_for_selector("#review-done")
    finally:
        server.close()


def test_two_reviewers_disagree_and_the_session_page_shows_it(
    browser: Any, page: Any, review_setup: Any, shot: Any
) -> None:
    _, session, server, extra = review_setup
    session.add_traces(extra)
    answers = {"alice": ["1", "1", "3"], "bob": ["1", "3", "3"]}
    for reviewer, keys in answers.items():
        context = browser.new_context(viewport={"width": 390, "height": 844})
        tab = context.new_page()
        tab.goto(session.reviewer_url(reviewer))
        for key in keys:
            tab.wait_for_selector("#label-form")
            tab.keyboard.press(key)
            tab.keyboard.press("Control+Enter")
            tab.wait_for_load_state()
        tab.wait_for_selector("#review-done")
        context.close()
    page.goto(server.url + f"/labeling/sessions/{session.labeling_session_id}")
    row = page.locator('#agreement-table tr[data-schema="response_accuracy"]')
    assert row.locator('[data-stat="percent_agreement"]').inner_text() == "67%"
    # 3 items, 2 reviewers, one disagreement: alpha = 1 - 2/3.6, kappa = (2/3 - 1/2) / (1/2)
    assert row.locator('[data-stat="krippendorff_alpha"]').inner_text() == "0.444"
    assert row.locator('[data-stat="fleiss_kappa"]').inner_text() == "0.333"
    table = page.locator('.disagreement-table[data-schema="response_accuracy"]')
    assert table.locator("tbody tr").count() == 1
    cells = table.locator("tbody tr td")
    assert [cells.nth(i).inner_text().strip() for i in (1, 2)] == ["Accurate", "Inaccurate"]
    assert page.locator("#progress").inner_text().count("3 labeled") == 2
    shot(page, "session-agreement")


def test_traces_are_selected_into_a_session_from_the_table(
    page: Any, review_setup: Any, shot: Any
) -> None:
    seeded, _, server, extra = review_setup
    page.goto(server.url + "/traces")
    for trace_id in extra:
        page.locator(f'tr[data-trace-id="{trace_id}"] input.js-select-row').check()
    assert page.locator(".js-selection-count").inner_text() == "2 selected"
    page.locator("#labeling-target").select_option(label="quickstart_review")
    shot(page, "traces-selection")
    page.locator("#labeling-action").click()
    page.wait_for_selector("#added-notice")
    assert "Added 2 traces" in page.locator("#added-notice").inner_text()
    ids = page.locator("#items-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.traceId)"
    )
    assert ids[0] == seeded.trace_id and set(ids[1:]) == set(extra)
    # "all matching the filter" with the page's select-all box untouched
    page.goto(server.url + "/traces?filter=" + "trace.name%20%3D%20%27risky%27")
    page.locator(".js-select-matching").check()
    page.locator("#labeling-action").click()
    page.wait_for_selector("#added-notice")
    assert "Added 1 trace" in page.locator("#added-notice").inner_text()


def test_the_review_page_fits_a_phone(browser: Any, review_setup: Any, shot: Any) -> None:
    _, session, _, _ = review_setup
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.goto(session.reviewer_url("alice"))
    phone.wait_for_selector("#label-form")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator("#submit-next").bounding_box()
    assert box is not None and box["width"] > 300  # a full-width button under the thumb
    phone.locator('label.choice:has-text("Inaccurate")').click()
    phone.locator("#submit-next").click()
    phone.wait_for_selector("#review-done")
    shot(phone, "review-phone")
    context.close()
