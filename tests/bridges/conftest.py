"""Session fixtures: real Phoenix and MLflow servers, started once (both at once) on first
use and stopped at the end; a unique Phoenix project / MLflow experiment per test.

Not installed: skipped locally with the command that installs them, a failure in CI
(``CI=true``). Installed but unable to start: always a failure, with the server's log.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from otelfeedback.testing import FakeOpenAIServer
from tests.bridges.servers import STARTERS, Server
from tests.bridges.tutorial import ANSWER


@pytest.fixture(scope="session")
def _backend_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Server | str]]:
    started: dict[str, Server | str] = {}
    for name, start in STARTERS.items():
        try:
            started[name] = start(tmp_path_factory.mktemp(name))
        except FileNotFoundError as exc:
            started[name] = str(exc)
    yield started
    for server in started.values():
        if isinstance(server, Server):
            server.stop()


def _ready(servers: dict[str, Server | str], name: str) -> Server:
    server = servers[name]
    if isinstance(server, str):
        if os.environ.get("CI"):
            pytest.fail(f"{server} (the backend tests must run in CI)")
        pytest.skip(server)
    try:
        server.wait_ready()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    return server


@pytest.fixture(scope="session")
def phoenix(_backend_servers: dict[str, Server | str]) -> Server:
    """A running Phoenix server."""
    return _ready(_backend_servers, "phoenix")


@pytest.fixture(scope="session")
def mlflow(_backend_servers: dict[str, Server | str]) -> Server:
    """A running MLflow tracking server."""
    return _ready(_backend_servers, "mlflow")


def call(method: str, url: str, payload: Any = None) -> Any:
    """One JSON request to a backend's REST API; the decoded answer (raises on non-2xx)."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture
def phoenix_project() -> str:
    """A Phoenix project name of this test's own."""
    return "test-" + uuid.uuid4().hex[:12]


@pytest.fixture
def mlflow_experiment(mlflow: Server) -> str:
    """The id of a new MLflow experiment for this test."""
    name = "test-" + uuid.uuid4().hex[:12]
    return str(
        call("POST", mlflow.url + "/api/2.0/mlflow/experiments/create", {"name": name})[
            "experiment_id"
        ]
    )


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """An OpenAI-speaking server on loopback answering the tutorial's question."""
    with FakeOpenAIServer() as server:
        server.reply(ANSWER)
        yield server
