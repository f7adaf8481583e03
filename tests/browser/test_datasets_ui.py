"""The Datasets section in a real browser: add traces from the table and from a trace page,
read the dataset page and its version history, and see what changed between versions."""

from __future__ import annotations

from typing import Any

import pytest

import otelfeedback
from tests.server.conftest import Seeded
from tests.server.live import LiveServer

pytestmark = pytest.mark.browser


def test_traces_become_a_dataset_and_the_diff_shows_the_change(
    page: Any, server: LiveServer, seeded: Seeded, shot: Any
) -> None:
    # 1. create a dataset, select both traces in the table and add them to it
    page.goto(server.url + "/traces")
    page.locator('[data-action="dataset"] a', has_text="Create a dataset").click()
    page.wait_for_url("**/datasets#create-dataset")
    page.locator("#new-dataset-name").fill("golden set")
    page.locator("#create-dataset-button").click()
    page.wait_for_url("**/datasets/d-*?version=0")
    page.goto(server.url + "/traces")
    for trace_id in (seeded.trace_id, seeded.script_trace_id):
        page.locator(f'tr[data-trace-id="{trace_id}"] input[name="trace_id"]').check()
    page.locator("#dataset-target").select_option(label="golden set")
    shot(page, "traces-selected")
    page.locator("#dataset-action").click()
    page.wait_for_url("**/datasets/d-*?version=1")
    assert page.locator("#dataset-name").inner_text() == "golden set"
    assert page.locator("#dataset-version").inner_text() == "version 1"
    rows = page.locator("#records-table tbody tr")
    assert rows.count() == 2
    link = page.locator(f'#records-table a.source-link[href="/traces/{seeded.trace_id}"]')
    assert link.is_visible()
    # untrusted trace content stays inert on this page too
    assert page.evaluate("window.__pwned") is None
    shot(page, "dataset-v1")

    # 2. an expert adds ground truth; the trace page adds the trace again: version 2
    otelfeedback.log_expectation(
        trace_id=seeded.trace_id, name="expected_response", value="An ML lifecycle platform."
    )
    otelfeedback.flush()  # (the server reads the store; the record is exported in batches)
    page.goto(server.url + f"/traces/{seeded.trace_id}")
    page.locator("#dataset-target").select_option(label="golden set")
    page.locator("#dataset-action").click()
    page.wait_for_url("**/datasets/d-*?version=2")
    row = page.locator(f"#records-table tr:has(a[href='/traces/{seeded.trace_id}'])")
    assert "expected_response" in row.locator(".ds-expectations").inner_text()
    history = page.locator("#versions-table tbody tr")
    assert history.count() == 2
    assert "+0 ~1 −0" in history.nth(0).inner_text()  # newest first
    assert "+2 ~0 −0" in history.nth(1).inner_text()
    shot(page, "dataset-v2")

    # 3. the diff between the two versions: one record changed, in its expectations
    history.nth(0).locator("a.diff-link").click()
    page.wait_for_url("**/diff?from=1&to=2")
    assert page.locator("#diff-versions").inner_text() == "v1 → v2"
    assert "0 added · 1 changed · 0 removed" in page.locator("#diff-summary").inner_text()
    change = page.locator('.ds-field-change[data-field="expectations.expected_response"]')
    assert change.locator("td.added").inner_text() == "An ML lifecycle platform."
    shot(page, "dataset-diff")

    # 4. the compare form: from the empty dataset to version 2, and back to version 1
    page.locator("a.back").click()
    page.locator("#diff-from").select_option("0")
    page.locator("#diff-to").select_option("2")
    page.locator("#show-diff").click()
    page.wait_for_url("**/diff?from=0&to=2")
    assert page.locator("#diff-added tbody tr").count() == 2
    page.goto(page.url.split("/diff")[0] + "?version=1")
    assert page.locator("#dataset-version").inner_text() == "version 1 of 2"
    assert "expected_response" not in page.locator("#records-table").inner_text()


def test_the_datasets_list_links_to_each_dataset(
    page: Any, server: LiveServer, seeded: Seeded, shot: Any
) -> None:
    page.goto(server.url + "/datasets")
    assert page.locator("#empty-state").is_visible()
    page.locator("#new-dataset-name").fill("from a trace")
    page.locator("#create-dataset-button").click()
    page.wait_for_url("**/datasets/d-*")
    page.goto(server.url + f"/traces/{seeded.trace_id}")
    page.locator("#dataset-target").select_option(label="from a trace")
    page.locator("#dataset-action").click()
    page.wait_for_url("**/datasets/d-*?version=1")
    page.locator(".topnav a", has_text="Datasets").click()
    page.wait_for_url("**/datasets")
    row = page.locator("#datasets-table tbody tr")
    assert row.count() == 1 and "from a trace" in row.inner_text()
    shot(page, "datasets")
    row.locator("a").first.click()
    assert page.locator("#record-count").inner_text() == "1"
