"""Hermetic tests: no OTEL_*/OTELFEEDBACK_*/OPENAI_* from the environment, no configuration leaking
between tests, no OTel globals."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import otelfeedback


@pytest.fixture(autouse=True)
def _hermetic(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("OTEL_", "OTELFEEDBACK_", "OPENAI_")):
            monkeypatch.delenv(name)
    # A default store, if a test falls back to it, lands in a temporary directory.
    monkeypatch.setenv("OTELFEEDBACK_STORE", str(tmp_path_factory.mktemp("default-store")))
    yield
    otelfeedback.reset()
    from otelfeedback.api._store import close_stores

    close_stores()  # (each test's store would keep its index files open to the end)


@pytest.fixture
def otlp_http() -> Iterator[HttpReceiver]:
    """A real OTLP/HTTP receiver on loopback."""
    from tests.otlp_receiver import HttpReceiver

    receiver = HttpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def otlp_grpc() -> Iterator[GrpcReceiver]:
    """A real OTLP/gRPC receiver on loopback."""
    from tests.otlp_receiver import GrpcReceiver

    receiver = GrpcReceiver()
    yield receiver
    receiver.close()


if False:  # for type checkers only
    from tests.otlp_receiver import GrpcReceiver, HttpReceiver
