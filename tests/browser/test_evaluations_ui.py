"""The Evaluations section in a real browser: the runs list, a run page with each scorer's
value and rationale, picking two runs and comparing them, and the alignment page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otelfeedback.testing import FakeOpenAIServer
from tests.evaluation.seed import XSS, SeededRuns, seed_runs
from tests.server.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SeededRuns, str]]:
    from otelfeedback.server import create_app

    with FakeOpenAIServer() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        seeded = seed_runs(tmp_path / "store", fake)
    live = LiveServer(create_app(seeded.store))
    yield seeded, live.url
    live.close()


def test_run_page_shows_each_rows_results_with_rationales_and_links(
    page: Any, runs: tuple[SeededRuns, str], shot: Any
) -> None:
    seeded, url = runs
    page.goto(url + "/")
    page.locator("nav.topnav a", has_text="Evaluations").click()
    page.wait_for_url("**/evaluations")
    row = page.locator(f'tr[data-run-id="{seeded.base}"]')
    assert "baseline" in row.inner_text()
    assert row.locator('[data-metric="safety/mean"]').inner_text().split() == [
        "safety/mean",
        "0.667",
    ]
    row.locator(".trace-name a").click()
    page.wait_for_url(f"**/evaluations/runs/{seeded.base}")
    assert page.locator("#run-name").inner_text() == "baseline"
    assert page.locator("#passed-count").inner_text() == "2 of 3"
    assert page.locator("#scorers .prompt-hash").first.inner_text()
    bomb = page.locator('tr[data-row="1"]')
    chip = bomb.locator('td[data-column="safety"] .result-chip')
    assert chip.inner_text() == "no" and "value-no" in (chip.get_attribute("class") or "")
    bomb.locator('td[data-column="safety"] details summary').click()
    assert bomb.locator(".rationale").inner_text() == "Because the answer was 'Build a bomb.'."
    assert bomb.locator('td[data-column="length"] .result-chip').inner_text() == "13"
    assert "failed" in bomb.inner_text()
    # Untrusted inputs render as text.
    assert page.evaluate("window.__pwned") is None
    assert XSS[:20] in page.locator('tr[data-row="2"]').inner_text()
    shot(page, "evaluation-run")
    bomb.locator('a[href^="/traces/"]').click()
    page.wait_for_url("**/traces/*")
    assert page.locator('.assessment[data-name="safety"]').first.is_visible()


def test_comparing_two_runs_shows_metric_deltas_and_changed_rows(
    page: Any, runs: tuple[SeededRuns, str], shot: Any
) -> None:
    seeded, url = runs
    page.goto(url + "/evaluations")
    page.locator(f'tr[data-run-id="{seeded.base}"] input[name="base"]').check()
    page.locator(f'tr[data-run-id="{seeded.candidate}"] input[name="candidate"]').check()
    page.locator("#compare-button").click()
    page.wait_for_url("**/evaluations/compare?**")
    delta = page.locator('#metric-deltas tr[data-metric="safety/mean"] .delta')
    assert delta.inner_text() == "+0"
    regressed = page.locator('#regressed .change-group[data-scorer="safety"]')
    assert "safety: 1 regressed" in (regressed.locator(".card-title").text_content() or "")
    assert "What is MLflow?" in regressed.inner_text()
    assert "Because the answer was 'A platform, I think.'." in regressed.inner_text()
    improved = page.locator('#improved .change-group[data-scorer="safety"]')
    assert "How do I log a metric?" in improved.inner_text()
    shot(page, "evaluation-compare")
    regressed.locator("a", has_text="trace").nth(1).click()
    page.wait_for_url(f"**/traces/{seeded.regressed_trace}")


def test_alignment_page_reports_agreement_and_disagreements(
    page: Any, runs: tuple[SeededRuns, str], shot: Any
) -> None:
    _, url = runs
    page.goto(url + "/evaluations/alignment")
    page.locator("#judge").fill("safety")
    page.locator("#human").fill("human_safety")
    page.locator("#alignment-form button[type=submit]").click()
    page.wait_for_url("**/evaluations/alignment?**")
    assert page.locator("#n").inner_text() == "3"
    assert page.locator("#agreement").inner_text() == "66.7%"
    assert page.locator('#confusion [data-cell="no|yes"]').inner_text() == "1"
    disagreement = page.locator(".disagreement")
    assert disagreement.count() == 1
    assert "Because the answer was 'A platform.'." in disagreement.inner_text()
    assert "expert review" in disagreement.inner_text()
    shot(page, "evaluation-alignment")
