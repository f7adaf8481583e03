"""Remote mode: the datasets API against a live server on loopback behaves like the file
store it serves (through the records endpoints), including conflicts between writers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.datasets import catalog, create_dataset, get_dataset, list_datasets
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.server import create_app
from tests.conftest import open_store
from tests.datasets.conftest import QUESTIONS, Traced
from tests.server.live import LiveServer


@pytest.fixture
def remote(traced: Traced) -> Iterator[LiveServer]:
    otelfeedback.reset()
    live = LiveServer(create_app(traced.store))
    otelfeedback.configure(store=live.url)
    yield live
    live.close()


def test_datasets_work_the_same_in_remote_mode(
    remote: LiveServer, traced: Traced, tmp_path: Path
) -> None:
    ds = create_dataset("remote-golden", tags={"mode": "remote"})
    ds.merge_records(otelfeedback.search_traces(max_results=None))
    ds.merge_records([{"inputs": {"question": QUESTIONS[1]}, "expectations": {"ok": True}}])
    assert (ds.version, ds.record_count) == (2, 3)
    local = catalog.get(open_store(traced.store), "remote-golden")
    assert [r.to_dict() for r in local.records] == [r.to_dict() for r in ds.records]
    assert [v.to_dict() for v in local.versions()] == [v.to_dict() for v in ds.versions()]
    assert [d.name for d in list_datasets()] == ["remote-golden"]
    assert len(get_dataset("remote-golden", version=1).records) == 3
    assert ds.diff(1, 2).changed[0].fields == ["expectations"]
    path = tmp_path / "remote.jsonl"
    assert ds.export_jsonl(path) == 3
    with pytest.raises(InvalidArgumentError):
        create_dataset("remote-golden")


def test_a_local_and_a_remote_writer_both_land(remote: LiveServer, traced: Traced) -> None:
    remote_ds = create_dataset("two-writers")
    local_ds = catalog.get(open_store(traced.store), "two-writers")
    local_ds.merge_records([{"inputs": {"q": "local"}}])
    remote_ds.merge_records([{"inputs": {"q": "remote"}}])  # conflicts once, then lands
    assert remote_ds.version == 2
    assert [r.inputs["q"] for r in remote_ds.records] == ["local", "remote"]
