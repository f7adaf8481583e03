"""Library calls never reconfigure the process: reads start nothing, the embedded server and
the CLI write through their store, and the app's own spans stay where the app sent them."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.cli import main
from otelfeedback.export.file_store import FileStoreSpanExporter
from otelfeedback.server import create_app
from otelfeedback.store import FileStore
from tests.export.test_file_store import read_lines
from tests.server.conftest import seed
from tests.server.live import LiveServer, send_json

ROOT = Path(__file__).resolve().parents[2]


def _our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("otelfeedback")]


def test_a_read_of_a_store_that_does_not_exist_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nothing-here"
    before = set(_our_threads())  # (earlier tests' stores may have pools of their own)
    monkeypatch.setenv("OTELFEEDBACK_STORE", str(missing))
    monkeypatch.chdir(tmp_path)
    assert otelfeedback.search_traces() == []
    with pytest.raises(otelfeedback.NotFoundError):
        otelfeedback.get_trace("0" * 31 + "1")
    assert not missing.exists()
    assert list(tmp_path.iterdir()) == []
    assert otelfeedback.get_configuration() is None
    assert set(_our_threads()) - before == set()


def test_import_loads_neither_the_sdk_nor_the_store() -> None:
    code = (
        "import sys, json\n"
        "import otelfeedback\n"
        "from otelfeedback.tracing import trace\n"
        "trace, otelfeedback.trace, otelfeedback.using_session\n"
        "heavy = ('opentelemetry.sdk', 'sqlite3', 'urllib.request', 'otelfeedback.store',\n"
        "         'otelfeedback.setup', 'grpc', 'google.protobuf')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
        "@trace\n"
        "def f(): return 1\n"
        "f()\n"
        "print(json.dumps('opentelemetry.sdk' in sys.modules))\n"
        "otelfeedback.reset()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT / "tests",
        env={"OTELFEEDBACK_STORE": ""},
    ).stdout.splitlines()
    assert json.loads(out[0]) == []
    assert json.loads(out[1]) is True  # the first span configures (and so loads the SDK)


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    assert otelfeedback.__version__ == version("otelfeedback")


def test_an_embedded_server_writes_feedback_to_its_store_and_leaves_the_app_alone(
    tmp_path: Path,
) -> None:
    app_store, served = tmp_path / "app", tmp_path / "served"
    seeded = seed(served)
    configuration = otelfeedback.configure(store=app_store, service_name="my-app")
    server = LiveServer(create_app(served))
    try:
        reply = send_json(
            "POST",
            f"{server.url}/api/traces/{seeded.trace_id}/assessments",
            {"kind": "feedback", "name": "expert", "value": True},
        )
        assert reply.status == 201, reply.text
    finally:
        server.close()

    @otelfeedback.trace
    def own_work() -> str:
        return "done"

    own_work()
    own_id = otelfeedback.get_last_active_trace_id()
    assert otelfeedback.get_configuration() is configuration
    assert otelfeedback.flush(5)
    # The app's span is in the app's store under the app's name, not in the server's.
    assert otelfeedback.get_trace(own_id).info.service_name == "my-app"
    with FileStore(served) as store:
        assert store.search_traces(f"trace.trace_id = '{own_id}'") == []
        feedback = store.get_trace(seeded.trace_id).search_assessments("expert")
    assert [f.value for f in feedback] == [True]
    assert not any("expert" in line for line in read_lines(app_store))


def test_the_cli_logs_feedback_without_reconfiguring_the_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_store, other = tmp_path / "app", tmp_path / "other"
    seeded = seed(other)
    configuration = otelfeedback.configure(store=app_store)
    args = ["assessments", "log", seeded.trace_id, "--name", "cli_note", "--value", "4"]
    status = main([*args, "--store", str(other), "--json"])
    assert status == 0
    logged = json.loads(capsys.readouterr().out)
    assert otelfeedback.get_configuration() is configuration
    with FileStore(other) as store:
        found = store.get_assessment(seeded.trace_id, logged["assessment_id"])
    assert found.value == 4
    assert not app_store.exists() or not read_lines(app_store)


def test_nan_and_infinity_inputs_and_attributes_write_strict_json(tmp_path: Path) -> None:
    otelfeedback.configure(store=tmp_path)

    @otelfeedback.trace
    def score(x: float) -> dict[str, float]:
        otelfeedback.update_current_trace(metadata={"ratio": math.inf})
        with otelfeedback.start_span("inner") as span:
            span.set_attribute("custom.nan", math.nan)
        return {"y": -math.inf}

    score(math.nan)
    assert otelfeedback.flush(5)

    def refuse(token: str) -> None:
        raise AssertionError(f"bare {token} in a store line")

    lines = read_lines(tmp_path)
    for line in lines:
        json.loads(line, parse_constant=refuse)
    trace = otelfeedback.get_trace(otelfeedback.get_last_active_trace_id())
    inner = next(s for s in trace.spans if s.name == "inner")
    assert math.isnan(inner.attributes["custom.nan"])


def test_our_exports_run_with_instrumentation_suppressed(tmp_path: Path) -> None:
    from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, get_value

    seen: list[object] = []

    class Watching(FileStoreSpanExporter):
        def export(self, spans):  # type: ignore[no-untyped-def]
            seen.append(get_value(_SUPPRESS_INSTRUMENTATION_KEY))
            return super().export(spans)

    otelfeedback.configure(store="", exporters=[Watching(tmp_path)])
    with otelfeedback.start_span("x"):
        pass
    assert otelfeedback.flush(5)
    assert seen and all(flag is True for flag in seen)
