"""The round trip the issue names: labeled traces -> a dataset -> evaluate() -> the run
records the exact version, and its page links back to that version."""

from __future__ import annotations

from typing import Any

import otelfeedback
from otelfeedback.datasets import create_dataset
from otelfeedback.evaluation import get_run
from otelfeedback.scorers import scorer
from otelfeedback.server import create_app
from tests.datasets.conftest import Traced
from tests.server.live import LiveServer, get


@scorer
def has_expectations(expectations: Any) -> bool:
    return bool(expectations)


def test_a_run_records_the_dataset_version_and_links_to_it(traced: Traced) -> None:
    ds = create_dataset("golden").merge_records(otelfeedback.search_traces(max_results=None))
    ds.merge_records([{"inputs": {"question": "extra"}, "expectations": {"ok": True}}])
    v1 = ds.at_version(1)
    result = otelfeedback.evaluate(data=v1, scorers=[has_expectations])
    assert len(result.rows) == 3  # version 1, not the latest
    source = get_run(result.run_id).data_source
    assert source["dataset"] == {
        "id": ds.dataset_id,
        "name": "golden",
        "version": 1,
        "url_path": f"/datasets/{ds.dataset_id}?version=1",
    }
    live = LiveServer(create_app(traced.store))
    try:
        page = get(live.url + f"/evaluations/runs/{result.run_id}").text
        assert f'href="/datasets/{ds.dataset_id}?version=1"' in page
        linked = get(live.url + f"/datasets/{ds.dataset_id}?version=1&format=json").json()
        assert linked["dataset"]["version"] == 1 and len(linked["records"]) == 3
    finally:
        live.close()
