"""The stores a server runs on: a file store directory or a PostgreSQL database.

``open_store`` turns ``--store`` into a store, ``span_sink`` gives the OTLP receiver the
function that stores one received request (it returns once the spans are durable: appended
to a segment, or committed), ``unavailable`` answers 503 when the database cannot be
reached, and ``Retention`` prunes old traces in the background.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from otelfeedback.errors import ConfigurationError, StoreUnavailableError
from otelfeedback.store.file_store import FileStore
from otelfeedback.store.sql.connect import is_postgres_url

if TYPE_CHECKING:
    from otelfeedback.store.sql import SqlStore

logger = logging.getLogger("otelfeedback.server")

#: Seconds a client should wait before retrying after a 503.
RETRY_AFTER = 5
#: Seconds between two retention passes.
RETENTION_INTERVAL = 3600.0


def open_store(store: Any, *, index_budget: float | None = None) -> FileStore | SqlStore:
    """The store a server serves: a ``FileStore`` or ``SqlStore`` as given, a PostgreSQL URL
    (``postgresql://...``) or a file store directory, opened with ``index_budget``.

    Raises:
        ConfigurationError: another kind of URL.
        MissingExtraError: a PostgreSQL URL without the ``postgres`` extra.
    """
    if isinstance(store, FileStore) or type(store).__name__ == "SqlStore":
        return store  # type: ignore[no-any-return]
    text = os.fspath(store)
    if is_postgres_url(text):
        from otelfeedback.store.sql import SqlStore

        return SqlStore(text, index_budget=index_budget)
    if "://" in text:
        raise ConfigurationError(
            f"store={text.split('@')[-1]!r}: the server serves a file store directory or a "
            "PostgreSQL database (postgresql://...)"
        )
    return FileStore(Path(text).expanduser(), index_budget=index_budget)


def span_sink(store: FileStore | SqlStore) -> Callable[[bytes], None]:
    """What the OTLP receiver calls with each accepted request (one OTLP/JSON line)."""
    if isinstance(store, FileStore):
        return store.segment_writer().append
    return store.enqueue_line


async def unavailable(request: Request, exc: Exception) -> Response:
    """503 with ``Retry-After`` when the store's database cannot be reached: for the OTLP
    receiver a ``google.rpc.Status`` in the request's encoding (OTLP clients retry on 503),
    else the JSON API's error body."""
    from otelfeedback.server._http import json_response

    logger.warning("%s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": str(RETRY_AFTER)}
    message = str(exc)
    if request.url.path == "/v1/traces":
        from otelfeedback.server.otlp import JSON, PROTOBUF

        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == JSON:
            body = json_response({"code": 14, "message": message}).body  # 14: UNAVAILABLE
            return Response(body, 503, headers=headers, media_type=JSON)
        from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

        proto = Status(code=14, message=message).SerializeToString()
        return Response(proto, 503, headers=headers, media_type=PROTOBUF)
    reply = json_response({"error": {"code": "STORE_UNAVAILABLE", "message": message}}, 503)
    reply.headers.update(headers)
    return reply


class Retention:
    """Prunes traces older than ``older_than_ms`` now and every ``interval`` seconds, in a
    background thread, while the server runs (PostgreSQL stores only). Several server
    processes may run one each: only one prunes at a time (``SqlStore.prune`` skips when
    another is pruning)."""

    def __init__(
        self, store: SqlStore, older_than_ms: int, interval: float = RETENTION_INTERVAL
    ) -> None:
        self.store = store
        self.older_than_ms = older_than_ms
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="otelfeedback-retention")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stats = self.store.prune(self.older_than_ms, wait=False)
                if stats is not None and stats.traces:
                    logger.info(
                        "retention: deleted %d traces (%d partitions dropped)",
                        stats.traces,
                        stats.partitions_dropped,
                    )
            except StoreUnavailableError as exc:
                logger.warning("retention: %s", exc)
            except Exception:
                logger.exception("retention: pruning failed")
            self._stop.wait(self.interval)


def retention_for(store: FileStore | SqlStore, older_than_ms: int | None) -> Retention | None:
    """The retention job for a server setting, None when unset.

    Raises:
        ConfigurationError: retention asked of a file store.
    """
    if older_than_ms is None:
        return None
    if isinstance(store, FileStore):
        raise ConfigurationError(
            "retention: pruning needs a PostgreSQL store; a file store keeps every segment "
            "(delete old segment files and run 'otelfeedback store reindex')"
        )
    return Retention(store, older_than_ms)
