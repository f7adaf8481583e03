"""Settings registry, the generated configuration page, the public surface, free import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback import config

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_page_is_generated_from_the_registry() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == config.render_markdown(), "run: make docs"


def test_every_setting_read_in_the_source_is_in_the_registry() -> None:
    declared = {s.env for s in config.SETTINGS}
    used = set()
    for path in (ROOT / "src" / "otelfeedback").rglob("*.py"):
        used.update(re.findall(r"OTELFEEDBACK_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    assert used - declared == set(), "undocumented settings"


def test_every_settable_setting_is_a_configure_argument() -> None:
    import inspect

    params = set(inspect.signature(otelfeedback.configure).parameters)
    assert {s.name for s in config.SETTINGS if not s.env_only} <= params


def test_argument_beats_variable_beats_otel_fallback_beats_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert config.resolve("capture_content") is True
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "false")
    assert config.resolve("capture_content") is False
    monkeypatch.setenv("OTELFEEDBACK_CAPTURE_CONTENT", "true")
    assert config.resolve("capture_content") is True
    assert config.resolve("capture_content", False) is False


def test_a_malformed_variable_is_a_clear_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTELFEEDBACK_EXPORT_QUEUE_SIZE", "lots")
    with pytest.raises(
        otelfeedback.ConfigurationError, match="OTELFEEDBACK_EXPORT_QUEUE_SIZE='lots'"
    ):
        otelfeedback.configure()


def test_unsupported_store_url_says_what_is_supported() -> None:
    with pytest.raises(otelfeedback.ConfigurationError, match="give a directory"):
        otelfeedback.configure(store="mongodb://x")


def test_public_surface_is_exactly_all() -> None:
    public = {name for name in dir(otelfeedback) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(otelfeedback, name)).__name__ == "module"}
    assert public - modules == set(otelfeedback.__all__) - {"__version__"}
    for name in otelfeedback.__all__:
        assert getattr(otelfeedback, name) is not None


def test_import_is_free() -> None:
    code = (
        "import threading, os, sys\n"
        "before = set(os.listdir('.'))\n"
        "import otelfeedback\n"
        "from opentelemetry import trace\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert set(os.listdir('.')) == before\n"
        "assert otelfeedback.get_configuration() is None\n"
        "assert type(trace.get_tracer_provider()).__name__ == 'ProxyTracerProvider'\n"
        "import logging; assert not logging.getLogger('otelfeedback').handlers\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT / "tests")


def test_first_span_configures_the_default_store_without_touching_globals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry import trace

    monkeypatch.delenv("OTELFEEDBACK_STORE")
    monkeypatch.chdir(tmp_path)

    @otelfeedback.trace
    def f() -> None:
        pass

    f()
    active = otelfeedback.get_configuration()
    assert active is not None and active.store_path == tmp_path / "otelfeedback-data"
    assert otelfeedback.flush(5)
    assert list((tmp_path / "otelfeedback-data" / "traces").glob("segment-*.jsonl"))
    assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"


def test_reconfigure_flushes_the_previous_configuration(tmp_path: Path) -> None:
    otelfeedback.configure(store=tmp_path / "a", export_delay_ms=60000)

    @otelfeedback.trace
    def f() -> None:
        pass

    f()
    otelfeedback.configure(store=tmp_path / "b")
    assert list((tmp_path / "a" / "traces").glob("segment-*.jsonl"))


def test_internal_errors_are_logged_once_and_the_call_proceeds(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from otelfeedback.export.console import ConsoleSpanExporter

    class Broken:
        def write(self, text: str) -> None:
            raise OSError("disk full")

    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    otelfeedback.configure(store="", exporters=[ConsoleSpanExporter(Broken())])  # type: ignore[arg-type]

    @otelfeedback.trace
    def f() -> int:
        return 7

    for _ in range(3):
        assert f() == 7
        otelfeedback.flush(5)
    warnings = [
        r
        for r in caplog.records
        if r.levelname == "WARNING" and "console export failed" in r.getMessage()
    ]
    assert len(warnings) == 1


def test_tracing_layer_imports_the_opentelemetry_api_only() -> None:
    import ast

    for path in (ROOT / "src" / "otelfeedback" / "tracing").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")), (
                    path,
                    name,
                )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("SPAN_ONLY", True), ("span_and_event", True), ("NO_CONTENT", False), ("EVENT_ONLY", False)],
)
def test_otel_genai_capture_modes_are_understood(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raw)
    assert otelfeedback.configure(store="").capture_content is expected


def test_an_unknown_capture_mode_names_the_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "maybe")
    with pytest.raises(otelfeedback.ConfigurationError, match="SPAN_ONLY"):
        otelfeedback.configure(store="")
