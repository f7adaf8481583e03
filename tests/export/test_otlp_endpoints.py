"""The OTLP settings follow the OpenTelemetry exporter specification: one table of settings
(environment variables and configure() arguments) against what a real capture server on
loopback receives: the path, the encoding, the compression, the headers. Every row also
checks that the local file store keeps receiving the spans."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback.store.file_store import FileStore


@dataclass
class Expect:
    path: str = "/v1/traces"
    content_type: str = "application/x-protobuf"
    gzip: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    warning: str | None = None
    grpc: bool = False


def row(env: dict[str, str], args: dict[str, Any], expect: Expect, why: str) -> Any:
    return pytest.param(env, args, expect, id=why)


ROWS = [
    row({"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}"}, {}, Expect(), "base URL without a path"),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}/otlp"},
        {},
        Expect(path="/otlp/v1/traces"),
        "base URL path gets v1/traces appended",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}/otlp/"},
        {},
        Expect(path="/otlp/v1/traces"),
        "base URL with a trailing slash",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{url}/custom/traces"},
        {},
        Expect(path="/custom/traces"),
        "traces endpoint used as it is",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{url}"},
        {},
        Expect(path="/"),
        "traces endpoint without a path posts to the root",
    ),
    row(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{url}/generic",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{url}/specific",
        },
        {},
        Expect(path="/specific"),
        "traces endpoint wins over the generic one",
    ),
    row({}, {"otlp_endpoint": "{url}/otlp"}, Expect(path="/otlp/v1/traces"), "argument is a base"),
    row({}, {"otlp_endpoint": "{url}/v1/traces"}, Expect(), "argument may be the traces URL"),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}/env"},
        {"otlp_endpoint": "{url}/arg"},
        Expect(path="/arg/v1/traces"),
        "argument wins over the environment",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
        {},
        Expect(content_type="application/json"),
        "http/json sends OTLP/JSON",
    ),
    row(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{url}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
        },
        {},
        Expect(content_type="application/json"),
        "traces protocol wins over the generic one",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}"},
        {"otlp_protocol": "http/json"},
        Expect(content_type="application/json"),
        "protocol argument",
    ),
    row(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{url}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        },
        {},
        Expect(content_type="application/json", gzip=True),
        "http/json with gzip",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"},
        {},
        Expect(gzip=True),
        "http/protobuf with gzip",
    ),
    row(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{url}",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "none",
        },
        {},
        Expect(),
        "traces compression wins over the generic one",
    ),
    row(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{url}",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-a=1, X-B=x%20y",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-c=3",
        },
        {},
        Expect(headers={"x-a": "1", "x-b": "x y", "x-c": "3"}),
        "headers: percent-decoded, generic and traces merged",
    ),
    row(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{url}",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-a=generic,x-b=generic",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-a=traces",
        },
        {"otlp_headers": {"X-B": "argument"}},
        Expect(headers={"x-a": "traces", "x-b": "argument"}),
        "headers: traces over generic, argument over both",
    ),
    row(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{url}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=acme",
        },
        {},
        Expect(content_type="application/json", headers={"x-tenant": "acme"}),
        "http/json sends the headers too",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/xml"},
        {},
        Expect(warning="OTEL_EXPORTER_OTLP_PROTOCOL 'http/xml'"),
        "unsupported protocol: one warning, the default",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}", "OTEL_EXPORTER_OTLP_COMPRESSION": "brotli"},
        {},
        Expect(warning="OTEL_EXPORTER_OTLP_COMPRESSION='brotli'"),
        "unsupported compression: one warning, uncompressed",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}", "OTEL_EXPORTER_OTLP_HEADERS": "secret,x-ok=1"},
        {},
        Expect(headers={"x-ok": "1"}, warning="OTEL_EXPORTER_OTLP_HEADERS: skipped 1"),
        "malformed header entry: one warning, the rest kept",
    ),
    row(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}", "OTEL_EXPORTER_OTLP_TIMEOUT": "soon"},
        {},
        Expect(warning="OTEL_EXPORTER_OTLP_TIMEOUT='soon'"),
        "unparsable timeout: one warning, the default",
    ),
    row(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{grpc}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=acme",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        },
        {},
        Expect(grpc=True, headers={"x-tenant": "acme"}),
        "grpc: host and port from the URL, headers as metadata",
    ),
]


@otelfeedback.trace(span_type="AGENT")
def chatbot(question: str) -> str:
    return "answer to " + question


def _store_span_names(directory: Path) -> list[str]:
    trace = otelfeedback.get_last_active_trace_id()
    assert trace is not None
    store = FileStore(directory)
    try:
        return [s.name for s in store.get_trace(trace).spans]
    finally:
        store.close()


@pytest.mark.parametrize(("env", "args", "expect"), ROWS)
def test_otlp_settings_follow_the_exporter_spec(  # type: ignore[no-untyped-def]
    env, args, expect, otlp_http, request, monkeypatch, tmp_path, caplog
) -> None:
    receiver = request.getfixturevalue("otlp_grpc") if expect.grpc else otlp_http
    urls = {"url": otlp_http.endpoint, "grpc": receiver.endpoint}
    store_dir = tmp_path / "store"
    monkeypatch.setenv("OTELFEEDBACK_STORE", str(store_dir))
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(**urls))
    arguments = {k: v.format(**urls) if isinstance(v, str) else v for k, v in args.items()}
    caplog.set_level(logging.WARNING, logger="otelfeedback")
    if arguments:
        otelfeedback.configure(**arguments)
    chatbot("hi")  # without arguments, the first span configures the defaults
    assert otelfeedback.flush(10)

    [span] = receiver.wait_for(1)
    assert span.name == "chatbot"
    assert span.attributes["output.value"] == "answer to hi"
    for name, value in expect.headers.items():
        assert span.headers[name] == value
    if not expect.grpc:
        assert span.path == expect.path
        assert span.headers["content-type"].startswith(expect.content_type)
        assert (span.headers.get("content-encoding") == "gzip") is expect.gzip
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    if expect.warning is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expect.warning in warnings[0], warnings
    # Whatever the OTLP settings, the local store keeps everything.
    assert _store_span_names(store_dir) == ["chatbot"]


def test_unusable_endpoint_variable_warns_and_keeps_the_store(
    monkeypatch, tmp_path, caplog
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTELFEEDBACK_STORE", str(tmp_path))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318")
    caplog.set_level(logging.WARNING, logger="otelfeedback")
    chatbot("still traced")
    assert otelfeedback.flush(10)
    [warning] = [r.getMessage() for r in caplog.records]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT 'localhost:4318': expected an http://" in warning
    config = otelfeedback.get_configuration()
    assert config is not None and list(config.stats()) == ["FileStoreSpanExporter"]
    assert _store_span_names(tmp_path) == ["chatbot"]


def test_timeout_variable_is_milliseconds(otlp_http, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The spec's unit is milliseconds: 300 means 0.3 s, not five minutes.
    otlp_http.delay = 3.0
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "300")
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    config = otelfeedback.configure(store=str(tmp_path), otlp_endpoint=otlp_http.endpoint)
    chatbot("slow backend")
    started = time.monotonic()
    otelfeedback.flush(10)
    assert time.monotonic() - started < 2.5
    assert config.stats()["OTLPHttpSpanExporter"]["failed"] == 1
    assert _store_span_names(tmp_path) == ["chatbot"]


def test_retryable_answers_are_retried_as_the_server_asks(otlp_http, tmp_path) -> None:  # type: ignore[no-untyped-def]
    otlp_http.fail_with, otlp_http.fail_times = 503, 2  # busy twice, "Retry-After: 0"
    config = otelfeedback.configure(store=str(tmp_path), otlp_endpoint=otlp_http.endpoint)
    chatbot("busy backend")
    assert otelfeedback.flush(10)
    [span] = otlp_http.wait_for(1)
    assert span.name == "chatbot" and otlp_http.rejected == 2
    assert config.stats()["OTLPHttpSpanExporter"]["exported"] == 1


def test_a_rejected_batch_is_not_retried(otlp_http, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    otlp_http.fail_with, otlp_http.fail_times = 400, 5
    config = otelfeedback.configure(store=str(tmp_path), otlp_endpoint=otlp_http.endpoint)
    chatbot("bad request")
    otelfeedback.flush(10)
    assert otlp_http.rejected == 1
    assert config.stats()["OTLPHttpSpanExporter"]["failed"] == 1
    assert "OTLP export to" in caplog.text and "HTTP 400" in caplog.text
