"""Steps 3-4 of the quickstart in a real browser: see the feedback, add an annotation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import RATIONALE, Seeded
from tests.server.live import LiveServer

pytestmark = pytest.mark.browser


def test_traces_table_shows_the_thumbs_down_feedback(
    page: Any, server: LiveServer, seeded: Seeded, shot: Any
) -> None:
    page.goto(server.url + "/")
    header = page.locator("th.assessment-col", has_text="user_feedback")
    assert header.is_visible()
    row = page.locator(f'tr[data-trace-id="{seeded.trace_id}"]')
    cell = row.locator('td[data-column="feedback.user_feedback"]')
    assert cell.inner_text().strip() == "false"
    assert cell.locator(".value-no").is_visible()
    shot(page, "traces")


def test_opening_the_trace_shows_the_assessment_with_its_rationale(
    page: Any, server: LiveServer, seeded: Seeded, shot: Any
) -> None:
    page.goto(server.url + "/traces")
    page.locator(f'tr[data-trace-id="{seeded.trace_id}"] a.trace-link').click()
    page.wait_for_url(f"**/traces/{seeded.trace_id}?*")
    panel = page.locator("#assessments")
    card = panel.locator('.assessment[data-name="user_feedback"]').first
    assert card.is_visible()
    assert "false" in card.locator(".value").inner_text()
    assert card.locator(".rationale").inner_text() == RATIONALE
    assert "enduser_123" in card.inner_text()
    assert page.locator(".span-row").count() == 2
    shot(page, "trace")


def test_adding_accuracy_score_on_a_span_adds_a_column(
    page: Any, server: LiveServer, seeded: Seeded, shot: Any
) -> None:
    page.goto(server.url + f"/traces/{seeded.trace_id}")
    page.locator(f'.span-row[data-span-id="{seeded.retriever_span_id}"] a.span-link').click()
    page.wait_for_url(f"**span={seeded.retriever_span_id}")
    form = page.locator("#add-assessment-form")
    if not form.is_visible():
        page.locator("#add-assessment > summary").click()
    form.locator('input[name="kind"][value="feedback"]').check()
    form.locator('input[name="name"]').fill("accuracy_score")
    form.locator('select[name="value_type"]').select_option("number")
    assert not form.locator('input[name="value_bool"]').first.is_visible()
    form.locator('textarea[name="value"]').fill("0.8")
    # the Value box is a form field, not a grey value chip capped at 260 px
    value_box = form.locator('div.field:has(textarea[name="value"])')
    assert value_box.bounding_box()["width"] > 270
    assert value_box.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"
    form.locator('textarea[name="rationale"]').fill("Right facts, but thin")
    form.locator('input[name="reviewer"]').fill("dev@example.com")
    shot(page, "add-form")
    form.locator("#create-assessment").click()
    page.wait_for_url(f"**span={seeded.retriever_span_id}#assessments")
    card = page.locator('#assessments-here .assessment[data-name="accuracy_score"]')
    assert card.locator(".value").inner_text() == "0.8"
    assert "dev@example.com" in card.inner_text()
    shot(page, "trace-after-add")

    page.goto(server.url + "/traces")  # "after you refresh the page"
    header = page.locator('th[data-column="feedback.accuracy_score"]')
    assert header.is_visible()
    cell = page.locator(
        f'tr[data-trace-id="{seeded.trace_id}"] td[data-column="feedback.accuracy_score"]'
    )
    assert cell.inner_text().strip() == "0.8"
    shot(page, "traces-after-add")

    # the reviewer's name is remembered in this browser
    page.goto(server.url + f"/traces/{seeded.script_trace_id}")
    assert page.locator('#add-assessment-form input[name="reviewer"]').input_value() == (
        "dev@example.com"
    )


def test_a_trace_whose_output_contains_script_runs_no_script(
    page: Any, server: LiveServer, seeded: Seeded, shot: Any
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in ("/traces", f"/traces/{seeded.script_trace_id}"):
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__pwned") is None
    assert "<script>window.__pwned = true</script>" in page.locator("#outputs").inner_text()
    assert dialogs == []
    shot(page, "script-trace")


def test_editing_overrides_and_keeps_history(page: Any, server: LiveServer, seeded: Seeded) -> None:
    page.goto(server.url + f"/traces/{seeded.trace_id}")
    card = page.locator('#assessments-here .assessment[data-name="user_feedback"]')
    card.locator("details.edit > summary").click()
    edit = card.locator("details.edit form")
    edit.locator('input[name="value_bool"][value="true"]').check()
    edit.locator('textarea[name="rationale"]').fill("Actually it answers the question")
    edit.locator('input[name="reviewer"]').fill("lead-dev")
    edit.locator('button[type="submit"]').click()
    page.wait_for_url("**#assessments")
    card = page.locator('#assessments-here .assessment[data-name="user_feedback"]')
    assert card.locator(".assessment-head .value").inner_text().strip() == "true"
    history = card.locator("details.history")
    history.locator("summary").click()
    assert "enduser_123" in history.inner_text()
    page.on("dialog", lambda dialog: dialog.accept())
    card.locator('form.js-confirm button[type="submit"]').click()
    page.wait_for_url("**#assessments")
    restored = page.locator('#assessments-here .assessment[data-name="user_feedback"]')
    assert restored.locator(".assessment-head .value").inner_text().strip() == "false"
