"""The bridges' own behaviour, against a scripted HTTP server on loopback: batching, retrying
with backoff, giving up and counting, dropping when full, never raising into the app; and the
configuration errors a user can make."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback import semconv
from otelfeedback.bridges import MLflowBridge, PhoenixBridge, rest_base_url
from otelfeedback.cli import main


@dataclass
class Seen:
    method: str
    path: str
    body: Any


class ScriptedBackend:
    """Answers OTLP posts with 200 and REST calls with the scripted statuses (then 200),
    keeping every request."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.statuses: deque[int] = deque()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                is_otlp = self.path.endswith("/v1/traces")
                body = None if is_otlp or not raw else json.loads(raw)
                backend.seen.append(Seen(self.command, self.path, body))
                status = 200 if is_otlp or not backend.statuses else backend.statuses.popleft()
                payload = b"{}" if status < 300 else b"Spans with IDs x do not exist."
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rest(self) -> list[Seen]:
        return [s for s in self.seen if not s.path.endswith("/v1/traces")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backend() -> Iterator[ScriptedBackend]:
    server = ScriptedBackend()
    yield server
    server.close()


@otelfeedback.trace
def answer(i: int) -> int:
    return i


def _traces(n: int) -> list[str]:
    ids = []
    for i in range(n):
        answer(i)
        trace_id = otelfeedback.get_last_active_trace_id()
        assert trace_id is not None
        ids.append(trace_id)
    return ids


def test_feedback_on_many_traces_goes_out_in_batches(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    otelfeedback.configure(store=tmp_path, exporters=[PhoenixBridge(backend.url)])
    for trace_id in _traces(20):
        otelfeedback.log_feedback(trace_id, "thumbs", True)
    assert otelfeedback.flush(10)
    posts = [s for s in backend.rest() if s.path.startswith("/v1/trace_annotations")]
    assert sum(len(p.body["data"]) for p in posts) == 20
    assert len(posts) < 20  # batched
    assert all(p.path.endswith("?sync=true") for p in posts)


def test_a_backend_that_is_not_ready_yet_is_retried_with_backoff(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = otelfeedback.configure(store=tmp_path, exporters=[PhoenixBridge(backend.url)])
    [trace_id] = _traces(1)
    backend.statuses.extend([404, 404, 503])  # not ingested yet, twice; then restarting
    started = time.monotonic()
    otelfeedback.log_feedback(trace_id, "thumbs", False)
    assert otelfeedback.flush(10)
    waited = time.monotonic() - started
    assert [s.method for s in backend.rest()] == ["POST"] * 4
    assert waited >= 0.25 + 0.5 + 1.0  # 0.25 s, 0.5 s, 1 s apart
    counters = config.stats()["PhoenixBridge"]["assessments"]
    assert counters == {"queued": 0, "written": 1, "retried": 3, "dropped": 0, "failed": 0}


def test_a_rejected_write_is_counted_not_retried_and_never_raised(
    backend, tmp_path, caplog
) -> None:  # type: ignore[no-untyped-def]
    config = otelfeedback.configure(store=tmp_path, exporters=[MLflowBridge(backend.url)])
    [trace_id] = _traces(1)
    backend.statuses.append(400)
    otelfeedback.log_feedback(trace_id, "thumbs", False)  # returns normally
    assert otelfeedback.flush(10)
    counters = config.stats()["MLflowBridge"]["assessments"]
    assert counters["failed"] == 1 and counters["retried"] == 0
    assert "the mlflow bridge could not create an assessment" in caplog.text


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_a_dead_backend_costs_the_app_nothing_and_is_counted(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    bridge = PhoenixBridge(_dead_url(), retry_for_s=0.5, queue_size=3)
    config = otelfeedback.configure(store=tmp_path, exporters=[bridge], export_timeout_ms=1000)
    trace_ids = _traces(5)
    started = time.monotonic()
    for trace_id in trace_ids:
        otelfeedback.log_feedback(trace_id, "thumbs", True)
    assert time.monotonic() - started < 1.0  # nothing waits on the backend
    otelfeedback.flush(10)
    counters = config.stats()["PhoenixBridge"]["assessments"]
    assert counters["dropped"] == 2  # the queue holds 3
    assert counters["failed"] == 3 and counters["written"] == 0 and counters["queued"] == 0
    # The local store has everything.
    assert otelfeedback.get_trace(trace_ids[0]).assessments[0].value is True


def test_a_malformed_record_is_counted_and_the_rest_goes_on(backend, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    bridge = MLflowBridge(backend.url)
    config = otelfeedback.configure(store="", exporters=[bridge])
    broken = {semconv.ASSESSMENT_ID: "a-1", semconv.ASSESSMENT_OPERATION: "explode"}
    with otelfeedback.start_span("carrier-from-elsewhere", attributes=broken):
        pass
    [trace_id] = _traces(1)
    otelfeedback.log_feedback(trace_id, "thumbs", True)
    assert otelfeedback.flush(10)
    counters = config.stats()["MLflowBridge"]["assessments"]
    assert counters["failed"] == 1 and counters["written"] == 1
    assert "1 malformed assessment records" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bridge": "zipkin", "otlp_endpoint": "http://127.0.0.1:9"}, "bridge 'zipkin': expected"),
        ({"bridge": "phoenix"}, "bridge='phoenix' needs otlp_endpoint"),
        (
            {"bridge": "mlflow", "otlp_endpoint": "http://127.0.0.1:9", "otlp_protocol": "grpc"},
            "sends OTLP over HTTP",
        ),
    ],
)
def test_bridge_misconfiguration_is_a_clear_error(kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(otelfeedback.ConfigurationError, match=message):
        otelfeedback.configure(store="", **kwargs)


def test_the_bridge_takes_the_backend_url_from_the_endpoint(backend, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert rest_base_url("http://h:6006/v1/traces") == "http://h:6006"
    assert rest_base_url("http://h/phoenix/v1/traces/") == "http://h/phoenix"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", backend.url + "/v1/traces")
    monkeypatch.setenv("OTELFEEDBACK_BRIDGE", "mlflow")
    config = otelfeedback.configure(store=tmp_path)
    [trace_id] = _traces(1)
    otelfeedback.log_feedback(trace_id, "thumbs", True)
    assert otelfeedback.flush(10)
    [post] = backend.rest()
    assert post.path == f"/api/3.0/mlflow/traces/tr-{trace_id}/assessments"
    assert post.body["assessment"]["feedback"] == {"value": True}
    assert config.stats()["MLflowBridge"]["assessments"]["written"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--to", "zipkin", "http://127.0.0.1:9"],
            "--to 'zipkin': expected one of phoenix, mlflow",
        ),
        (["--to", "phoenix", "127.0.0.1:6006"], "expected an http:// or https:// URL"),
    ],
)
def test_replay_with_bad_arguments_says_why(args, message, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["bridge", "replay", "--store", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


def test_replay_to_a_backend_that_rejects_fails(backend, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    otelfeedback.configure(store=tmp_path)
    [trace_id] = _traces(1)
    otelfeedback.log_feedback(trace_id, "thumbs", True)
    otelfeedback.flush()
    otelfeedback.reset()
    backend.statuses.append(422)
    status = main(["bridge", "replay", "--store", str(tmp_path), "--to", "phoenix", backend.url])
    captured = capsys.readouterr()
    assert status == 1
    assert "1 failed" in captured.out and "did not take everything" in captured.err
