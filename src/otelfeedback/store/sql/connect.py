"""Connections to the PostgreSQL store: one pool per process, opened on first use, checked
on every checkout (a database that restarted is reconnected to without restarting the
server), and failures turned into ``StoreUnavailableError``.

A pool is never shared across ``fork()``: a child process opens its own on first use and
leaves its parent's sockets alone.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from otelfeedback.errors import ConfigurationError, MissingExtraError, StoreUnavailableError

logger = logging.getLogger("otelfeedback.store")

T = TypeVar("T")
#: Seconds a call waits for a connection (all busy, or the database unreachable) before it
#: fails with ``StoreUnavailableError``.
POOL_TIMEOUT = 10.0
#: Connections per process (the server's thread pool runs at most this many queries).
POOL_MAX = 10
CONNECT_TIMEOUT = 5


def require_psycopg() -> None:
    """Raise ``MissingExtraError`` unless psycopg 3 and its pool are installed."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise MissingExtraError("postgres", "a postgresql:// store") from None


def is_postgres_url(text: str) -> bool:
    return text.split("://", 1)[0].lower() in ("postgresql", "postgres") and "://" in text


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def unavailable(url: str, exc: BaseException) -> StoreUnavailableError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return StoreUnavailableError(f"the PostgreSQL store {redact(url)} is unavailable: {reason}")


def connection_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the database is unreachable", not "the query is wrong"."""
    import psycopg
    import psycopg_pool

    return (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout)


class Pool:
    """A lazily opened, fork-aware ``psycopg_pool.ConnectionPool`` of autocommit
    connections."""

    def __init__(self, url: str, *, max_size: int = POOL_MAX, timeout: float = POOL_TIMEOUT):
        if not is_postgres_url(url):
            raise ConfigurationError(f"not a PostgreSQL URL: {redact(url)!r}")
        self.url = url
        self.max_size = max_size
        self.timeout = timeout
        self._lock = threading.Lock()
        self._pool: Any = None
        self._pid = 0
        self._inherited: list[Any] = []  # a parent's pools: kept, never closed, in a child

    def _get(self) -> Any:
        pool = self._pool
        if pool is not None and self._pid == os.getpid():
            return pool
        with self._lock:
            if self._pool is not None and self._pid != os.getpid():
                self._inherited.append(self._pool)
                self._pool = None
            if self._pool is None:
                require_psycopg()
                import psycopg_pool

                self._pool = psycopg_pool.ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.max_size,
                    timeout=self.timeout,
                    kwargs={
                        "autocommit": True,
                        "connect_timeout": CONNECT_TIMEOUT,
                        "application_name": "otelfeedback",
                    },
                    check=psycopg_pool.ConnectionPool.check_connection,
                    reconnect_timeout=0,  # keep trying while the database is away
                    name="otelfeedback",
                    open=False,
                )
                self._pool.open(wait=False)
                self._pid = os.getpid()
            return self._pool

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection for one unit of work; ``StoreUnavailableError`` if none can be had
        or it breaks meanwhile (anything the work had not committed is not stored)."""
        errors = connection_errors()
        try:
            with self._get().connection() as conn:
                yield conn
        except errors as exc:
            raise unavailable(self.url, exc) from exc

    def run(self, work: Callable[[Any], T], *, retry: bool = False) -> T:
        """``work(conn)`` on a pooled connection. With ``retry`` (reads: idempotent work),
        a connection that breaks is replaced once before giving up."""
        try:
            with self.connection() as conn:
                return work(conn)
        except StoreUnavailableError:
            if not retry:
                raise
            logger.info("PostgreSQL connection lost; retrying once on a new one")
        with self.connection() as conn:
            return work(conn)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None


def connect(url: str) -> Any:
    """One autocommit connection outside the pool (migrations, maintenance)."""
    require_psycopg()
    import psycopg

    try:
        return psycopg.connect(
            url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="otelfeedback"
        )
    except psycopg.OperationalError as exc:
        raise unavailable(url, exc) from exc
