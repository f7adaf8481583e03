"""An assessment function asked to record something durably says so when it cannot
(issue 13): with a local file store, ``log_feedback`` and friends raise ``StoreWriteError``
when the record cannot be written (a full disk, an unwritable store) instead of returning
as if it had been; OTLP destinations keep counting their failures without raising.

A full disk is real here: the store's next segment is ``/dev/full``, where every write
fails with ENOSPC.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback import StoreWriteError, get_trace, log_feedback
from otelfeedback.cli import main
from tests.server.live import LiveServer, send_json

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")


@pytest.fixture
def disk_full(store_dir: Path) -> Iterator[Callable[[], None]]:
    """Call it to make the store's disk full (from the next write on)."""
    segment = store_dir / "traces" / "segment-999999.jsonl"

    def fill() -> None:
        segment.parent.mkdir(parents=True, exist_ok=True)
        os.symlink("/dev/full", segment)

    yield fill
    if segment.is_symlink():
        segment.unlink()


@needs_dev_full
def test_log_feedback_raises_when_the_disk_is_full_and_records_nothing(
    traced_call: Callable[[], str],
    store_dir: Path,
    disk_full: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    trace_id = traced_call()
    otelfeedback.flush()
    disk_full()
    with pytest.raises(StoreWriteError, match="No space left on device") as raised:
        log_feedback(trace_id, "user_feedback", False)
    assert isinstance(raised.value, OSError)  # also what `except OSError` expects
    assert str(store_dir) in str(raised.value)
    # The disk has room again: nothing half-written, the next call works.
    (store_dir / "traces" / "segment-999999.jsonl").unlink()
    log_feedback(trace_id, "user_feedback", True)
    assert [a.value for a in get_trace(trace_id).assessments] == [True]


@needs_dev_full
def test_writes_through_a_store_raise_too(
    traced_call: Callable[[], str], store_dir: Path, disk_full: Callable[[], None]
) -> None:
    """The CLI and the server write with ``writing_to(store)``: the same error, a non-zero
    exit and a 503."""
    from otelfeedback.server import create_app

    trace_id = traced_call()
    otelfeedback.flush()
    disk_full()
    code = main(
        ["assessments", "log", trace_id, "--name", "q", "--value", "5", "--store", str(store_dir)]
    )
    assert code != 0
    live = LiveServer(create_app(store_dir, background_indexing=False))
    try:
        reply = send_json(
            "POST",
            f"{live.url}/api/traces/{trace_id}/assessments",
            {"name": "quality", "value": 5},
        )
    finally:
        live.close()
    assert reply.status == 503, reply.text
    assert reply.json()["error"]["code"] == "STORE_UNAVAILABLE"
    assert "No space left on device" in reply.json()["error"]["message"]


def test_an_unwritable_store_raises(
    traced_call: Callable[[], str], store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    trace_id = traced_call()
    otelfeedback.flush()
    get_trace(trace_id)
    traces = store_dir / "traces"
    for segment in traces.glob("segment-*.jsonl"):
        segment.rename(segment.with_suffix(".moved"))
    (traces / "segment-999999.jsonl").mkdir()  # where the writer must append: a directory
    with pytest.raises(StoreWriteError, match="could not be written to the store"):
        log_feedback(trace_id, "user_feedback", False)


def test_otlp_destinations_count_failures_and_never_raise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = otelfeedback.configure(store="", otlp_endpoint=dead, export_timeout_ms=1000)
    log_feedback("ab" * 16, "user_feedback", True, span_id="cd" * 8)  # returns
    otelfeedback.flush(5)
    stats = config.stats()["OTLPHttpSpanExporter"]
    assert stats["failed"] + stats["dropped"] == 1 and stats["exported"] == 0
    json.dumps(stats)
