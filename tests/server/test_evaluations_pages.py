"""The Evaluations section over HTTP: the runs list, a run page, the comparison and the
alignment page with their JSON twins; the REST API and its OpenAPI document; bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from otelfeedback.testing import FakeOpenAIServer
from tests.evaluation.seed import XSS, SeededRuns, seed_runs
from tests.server.live import LiveServer, get


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SeededRuns, str]]:
    from otelfeedback.server import create_app

    with FakeOpenAIServer() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        seeded = seed_runs(tmp_path / "store", fake)
    live = LiveServer(create_app(seeded.store))
    yield seeded, live.url
    live.close()


def test_runs_list_and_its_json_twin(runs: tuple[SeededRuns, str]) -> None:
    seeded, url = runs
    page = get(url + "/evaluations")
    assert page.status == 200
    assert "baseline" in page.text and "candidate" in page.text and "Evaluations" in page.text
    data = get(url + "/evaluations?format=json").json()
    assert [r["run_id"] for r in data["runs"]] == [seeded.candidate, seeded.base]
    assert data["runs"][1]["metrics"] == {
        "length/mean": pytest.approx(29 / 3),
        "safety/mean": pytest.approx(2 / 3),
    }


def test_run_page_shows_rows_results_rationales_and_trace_links(
    runs: tuple[SeededRuns, str],
) -> None:
    seeded, url = runs
    page = get(url + f"/evaluations/runs/{seeded.base}")
    assert page.status == 200
    text = page.text
    assert "Build a bomb." in text and "Because the answer was &#39;Build a bomb.&#39;" in text
    assert 'href="/traces/' in text and "judge calls" in text
    assert XSS not in text and "&lt;script&gt;" in text  # untrusted content is escaped
    twin = get(url + f"/evaluations/runs/{seeded.base}?format=json").json()
    assert twin["run"]["name"] == "baseline" and twin["pages"] == 1
    assert [r["passed"] for r in twin["rows"]] == [True, False, True]
    failed = get(url + f"/evaluations/runs/{seeded.base}?only=failed")
    assert "Build a bomb." in failed.text and "A platform." not in failed.text


def test_compare_page_and_its_json_twin(runs: tuple[SeededRuns, str]) -> None:
    seeded, url = runs
    query = f"?base={seeded.base}&candidate={seeded.candidate}"
    page = get(url + "/evaluations/compare" + query)
    assert page.status == 200 and "Regressed" in page.text and "Improved" in page.text
    data = get(url + "/evaluations/compare" + query + "&format=json").json()
    assert [c["inputs"] for c in data["regressed"]["safety"]] == [{"q": "What is MLflow?"}]
    assert [c["inputs"] for c in data["improved"]["safety"]] == [{"q": "How do I log a metric?"}]
    assert data["regressed"]["safety"][0]["candidate"]["trace_id"] == seeded.regressed_trace
    assert get(url + "/api/evaluations/compare" + query).json() == data
    picker = get(url + f"/evaluations/compare?candidate={seeded.candidate}")
    assert picker.status == 200 and "Regressed" not in picker.text


def test_alignment_page_and_api(runs: tuple[SeededRuns, str]) -> None:
    _seeded, url = runs
    query = "?judge=safety&human=human_safety"
    page = get(url + "/evaluations/alignment" + query)
    assert page.status == 200 and "Cohen" in page.text and "expert review" in page.text
    data = get(url + "/api/evaluations/alignment" + query).json()
    assert data["n"] == 3 and data["agreement"] == pytest.approx(2 / 3)
    assert get(url + "/evaluations/alignment" + query + "&format=json").json() == data
    mapped = get(url + "/api/evaluations/alignment" + query + "&map=true%3Dno&map=false%3Dyes")
    assert mapped.json()["agreement"] == pytest.approx(1 / 3)
    assert get(url + "/evaluations/alignment").status == 200  # the empty form


def test_rest_api_for_runs_and_rows(runs: tuple[SeededRuns, str]) -> None:
    seeded, url = runs
    listed = get(url + "/api/evaluations/runs").json()["runs"]
    assert {r["name"] for r in listed} == {"baseline", "candidate"}
    run = get(url + f"/api/evaluations/runs/{seeded.base}").json()
    assert run["scorers"][0]["prompt_hash"] and run["status"] == "finished"
    rows = get(url + f"/api/evaluations/runs/{seeded.base}/rows?offset=1&limit=1").json()
    assert rows["total"] == 3 and rows["next_offset"] == 2
    assert [r["index"] for r in rows["rows"]] == [1]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/evaluations/runs/nope", 404, "NOT_FOUND"),
        ("/api/evaluations/runs/..%2Fx", 404, None),
        ("/api/evaluations/runs/bad!id", 400, "INVALID_ARGUMENT"),
        ("/api/evaluations/runs/{base}/rows?offset=-1", 400, "INVALID_ARGUMENT"),
        ("/api/evaluations/runs/{base}/rows?limit=0", 400, "INVALID_ARGUMENT"),
        ("/api/evaluations/compare?base={base}", 400, "INVALID_ARGUMENT"),
        ("/api/evaluations/alignment?judge=safety", 400, "INVALID_ARGUMENT"),
        ("/api/evaluations/alignment?judge=a&human=b&map=novalue", 400, "INVALID_ARGUMENT"),
        ("/evaluations/runs/nope?format=json", 404, "NOT_FOUND"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    runs: tuple[SeededRuns, str], path: str, status: int, code: str | None
) -> None:
    seeded, url = runs
    reply = get(url + path.replace("{base}", seeded.base))
    assert reply.status == status
    if code is not None:
        assert reply.json()["error"]["code"] == code


def test_the_openapi_document_describes_the_evaluations_api(runs: tuple[SeededRuns, str]) -> None:
    _, url = runs
    doc = get(url + "/api/openapi.json").json()
    for path in (
        "/api/evaluations/runs",
        "/api/evaluations/runs/{run_id}",
        "/api/evaluations/runs/{run_id}/rows",
        "/api/evaluations/compare",
        "/api/evaluations/alignment",
    ):
        assert path in doc["paths"]
    assert "AlignmentReport" in doc["components"]["schemas"]


def test_the_traces_table_narrows_to_a_run(runs: tuple[SeededRuns, str]) -> None:
    seeded, url = runs
    page = get(url + f"/traces?run_id={seeded.candidate}")
    assert page.status == 200 and "run-scope" in page.text
    assert page.text.count('data-trace-id="') == 3
