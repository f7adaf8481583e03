"""OTLP export end to end to real receivers on loopback, and a dead endpoint."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

import otelfeedback


@otelfeedback.trace(span_type="AGENT")
def chatbot(question: str) -> str:
    return retrieve(question)[0]


@otelfeedback.trace(span_type="RETRIEVER")
def retrieve(query: str) -> list[str]:
    return ["context for " + query]


def test_spans_reach_an_otlp_http_receiver(otlp_http, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    otelfeedback.configure(
        store="",
        otlp_endpoint=otlp_http.endpoint,
        service_name="chatbot-svc",
        otlp_headers={"x-api-key": "secret-key"},
    )
    chatbot("what is otel?")
    assert otelfeedback.flush(10)
    spans = {s.name: s for s in otlp_http.wait_for(2)}
    agent, retriever = spans["chatbot"], spans["retrieve"]
    assert retriever.parent_span_id == agent.span_id
    assert agent.attributes["openinference.span.kind"] == "AGENT"
    assert retriever.attributes["otelfeedback.span_type"] == "RETRIEVER"
    assert agent.attributes["output.value"] == "context for what is otel?"
    assert agent.resource["service.name"] == "chatbot-svc"
    assert agent.resource["deployment.environment"] == "test"
    assert agent.headers["x-api-key"] == "secret-key"
    # Secrets in export headers are never recorded on spans.
    assert "secret-key" not in repr(agent.attributes) + repr(agent.resource)


def test_standard_otel_endpoint_variable_adds_otlp_to_the_default(otlp_http, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_http.endpoint)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    chatbot("lazy")  # no configure(): the first span configures the defaults
    assert otelfeedback.flush(10)
    spans = otlp_http.wait_for(2)
    assert {s.name for s in spans} == {"chatbot", "retrieve"}
    assert spans[0].resource["service.name"] == "from-env"


def test_spans_reach_an_otlp_grpc_receiver(otlp_grpc) -> None:  # type: ignore[no-untyped-def]
    otelfeedback.configure(store="", otlp_endpoint=otlp_grpc.endpoint, otlp_protocol="grpc")
    chatbot("grpc")
    assert otelfeedback.flush(10)
    spans = {s.name: s for s in otlp_grpc.wait_for(2)}
    assert spans["retrieve"].parent_span_id == spans["chatbot"].span_id


def test_unknown_protocol_is_a_configuration_error() -> None:
    with pytest.raises(otelfeedback.ConfigurationError, match="otlp_protocol 'http/xml'"):
        otelfeedback.configure(otlp_protocol="http/xml")


def test_bad_endpoint_is_a_configuration_error() -> None:
    with pytest.raises(otelfeedback.ConfigurationError, match="expected an http"):
        otelfeedback.configure(otlp_endpoint="localhost:4318")


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dead_endpoint_keeps_latency_flat_counts_drops_and_raises_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    endpoint = f"http://127.0.0.1:{_dead_port()}"
    config = otelfeedback.configure(
        store="",
        otlp_endpoint=endpoint,
        export_queue_size=50,
        export_batch_size=10,
        export_delay_ms=1,
        export_timeout_ms=2000,
    )

    @otelfeedback.trace
    def handler(i: int) -> int:
        return i

    def timed(n: int) -> list[float]:
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            handler(i)
            out.append(time.perf_counter() - t0)
        return out

    first = timed(20)
    later = timed(2000)
    # Not a benchmark: only that no call waits on the dead backend (a retry waits seconds).
    assert max(later) < 0.5
    assert statistics.median(later) < 0.01
    assert statistics.median(first) < 0.01
    otelfeedback.flush(0.5)
    stats = config.stats()["OTLPHttpSpanExporter"]
    assert stats["dropped"] > 0
    assert stats["exported"] == 0


def test_standard_headers_and_protocol_variables_are_honoured(otlp_grpc, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_grpc.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=acme")
    otelfeedback.configure(store="")
    chatbot("env")
    assert otelfeedback.flush(10)
    spans = otlp_grpc.wait_for(2)
    assert len(spans) == 2
    assert spans[0].headers["x-tenant"] == "acme"


def test_a_server_url_as_store_sends_spans_to_its_otlp_receiver_with_the_token(  # type: ignore[no-untyped-def]
    otlp_http, monkeypatch
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_SERVER_TOKEN", "s3cret")
    config = otelfeedback.configure(store=otlp_http.endpoint + "/")
    assert config.store_url == otlp_http.endpoint and config.store_path is None
    chatbot("remote")
    assert otelfeedback.flush(10)
    spans = otlp_http.wait_for(2)
    assert {s.name for s in spans} == {"chatbot", "retrieve"}
    assert spans[0].headers["authorization"] == "Bearer s3cret"


def test_grpc_without_its_extra_names_the_install_command(tmp_path: Path) -> None:
    # A process where the gRPC exporter is not installed (import blocked, as on a core install).
    code = (
        "import sys\n"
        "sys.modules['opentelemetry.exporter.otlp.proto.grpc'] = None\n"
        "import otelfeedback\n"
        "try:\n"
        "    otelfeedback.configure(store='', otlp_endpoint='http://127.0.0.1:4317',\n"
        "                           otlp_protocol='grpc')\n"
        "except otelfeedback.MissingExtraError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout
    assert "pip install 'otelfeedback[grpc]'" in out


EXITING = """
import sys, time
import otelfeedback
started = time.monotonic()
otelfeedback.configure(store="", otlp_endpoint=sys.argv[1] or None, export_delay_ms=1)

@otelfeedback.trace
def handler(i):
    return i

for i in range(20):
    handler(i)
time.sleep(0.5)  # the worker is now retrying the dead backend
print(time.monotonic() - started)
"""


def _exit_seconds(endpoint: str) -> float:
    import subprocess
    import sys

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", EXITING, endpoint],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return time.monotonic() - started - float(done.stdout.strip())


def test_the_process_exits_promptly_with_a_dead_backend() -> None:
    """Exit waits at most the shutdown timeout (3 s), not the export timeout's retries
    (10 s): measured from the end of the script to the end of the process."""
    baseline = _exit_seconds("")  # no exporter at all: interpreter start and exit
    dead = _exit_seconds(f"http://127.0.0.1:{_dead_port()}")
    assert dead - baseline < 6.0, (dead, baseline)


def test_stats_count_the_batch_being_retried_and_what_shutdown_dropped(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    config = otelfeedback.configure(
        store="",
        otlp_endpoint=f"http://127.0.0.1:{_dead_port()}",
        export_batch_size=5,
        export_delay_ms=1,
        shutdown_timeout_ms=200,
    )

    @otelfeedback.trace
    def handler(i: int) -> int:
        return i

    for i in range(12):
        handler(i)
    deadline = time.monotonic() + 10
    while config.stats()["OTLPHttpSpanExporter"]["in_flight"] != 5:
        assert time.monotonic() < deadline, config.stats()
        time.sleep(0.01)
    stats = config.stats()["OTLPHttpSpanExporter"]
    assert stats["queued"] + stats["in_flight"] == 12 - stats["failed"]
    otelfeedback.reset()  # shutdown: 0.2 s, then the exporter stops retrying
    after = config.stats()["OTLPHttpSpanExporter"]
    assert after["queued"] == 0 and after["exported"] == 0
    # Every span is accounted for: failed (its batch gave up) or dropped (never sent).
    deadline = time.monotonic() + 10
    while config.stats()["OTLPHttpSpanExporter"]["in_flight"]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    after = config.stats()["OTLPHttpSpanExporter"]
    assert after["failed"] + after["dropped"] == 12, after
