"""Hermetic tests: no OTEL_*/OTELFEEDBACK_*/OPENAI_* from the environment, no configuration leaking
between tests, no OTel globals."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# -- PostgreSQL ---------------------------------------------------------------------------------
#: The stores every shared test runs against (``store_location``, ``tests/store``'s ``backend``).
STORE_KINDS = [pytest.param("file"), pytest.param("postgres", marks=pytest.mark.postgres)]


_opened: list[Any] = []


def open_store(location: Any) -> Any:
    """A store by its location (a directory, or a PostgreSQL URL), as a user opens it;
    closed at the end of the test."""
    from otelfeedback.store import FileStore

    if str(location).startswith("postgresql://"):
        from otelfeedback.store.sql import SqlStore

        store: Any = SqlStore(str(location))
    else:
        store = FileStore(location)
    _opened.append(store)
    return store


@pytest.fixture(autouse=True)
def _close_opened_stores() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


@pytest.fixture(params=STORE_KINDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a new, empty store of each kind is: a directory, then a PostgreSQL database."""
    if request.param == "file":
        return tmp_path / "store"
    return str(request.getfixturevalue("postgres_url"))


_TEMPLATE = "otelfeedback_template"
_databases = iter(range(1, 1_000_000))


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the whole session (``tests/postgres.py``), with a
    database migrated to the current schema to copy for each test. Tests that need it fail
    in CI (``CI=true``) when it cannot start, and are skipped elsewhere."""
    from tests.postgres import ClusterError, start_cluster

    try:
        import psycopg  # noqa: F401

        cluster = start_cluster()
    except (ClusterError, ImportError) as exc:
        message = f"PostgreSQL cannot start: {exc}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        from otelfeedback.store.sql import SqlStore

        with SqlStore(cluster.create_database(_TEMPLATE)) as store:
            store.migrate()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def postgres_url(postgres: Cluster) -> Iterator[str]:
    """A new database with the current schema, dropped after the test."""
    name = f"test_{next(_databases)}"
    url = postgres.create_database(name, template=_TEMPLATE)
    yield url
    postgres.drop_database(name)


@pytest.fixture
def postgres_empty_url(postgres: Cluster) -> Iterator[str]:
    """A new empty database (no schema), dropped after the test."""
    name = f"empty_{next(_databases)}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


if False:  # for type checkers only
    from tests.postgres import Cluster
