"""The store the public functions read from: the active configuration's, found without
configuring anything (a read never starts the write side)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from otelfeedback import config, setup
from otelfeedback.errors import ConfigurationError, StoreWriteError
from otelfeedback.store.file_store import FileStore
from otelfeedback.store.remote import RemoteStore
from otelfeedback.store.sql.connect import is_postgres_url

if TYPE_CHECKING:
    from otelfeedback.store.sql import SqlStore

_stores: dict[Path, FileStore] = {}
_remotes: dict[tuple[str, str | None], RemoteStore] = {}
_databases: dict[str, SqlStore] = {}
_stores_lock = threading.Lock()


def active_store(*, required: bool = True) -> FileStore | RemoteStore | SqlStore | None:
    """The store of the active configuration, else of the settings (``OTELFEEDBACK_STORE``
    or ``./otelfeedback-data``): a ``FileStore``, a ``SqlStore`` (``store="postgresql://..."``)
    or a ``RemoteStore`` in remote mode (``store="http://..."``). Reading a file store that
    does not exist yet creates nothing.

    Raises:
        ConfigurationError: no store is configured and ``required``.
    """
    path, url = setup.get_store_location()
    if url is not None and is_postgres_url(url):
        with _stores_lock:
            database = _databases.get(url)
            if database is None:
                from otelfeedback.store.sql import SqlStore

                database = _databases[url] = SqlStore(url)
            return database
    if url is not None:
        key = (url, config.resolve("server_token"))
        with _stores_lock:
            remote = _remotes.get(key)
            if remote is None:
                remote = _remotes[key] = RemoteStore(url, token=key[1])
            return remote
    if path is None:
        if required:
            raise ConfigurationError(
                "no store is configured: call otelfeedback.configure(store=DIRECTORY) "
                "(or set OTELFEEDBACK_STORE) to read traces and assessments"
            )
        return None
    with _stores_lock:
        store = _stores.get(path)
        if store is None:
            store = _stores[path] = FileStore(path)
        return store


def flush_store() -> None:
    """Export the spans waiting for the store (only that exporter, not a slow OTLP backend):
    the file store, or the server in remote mode."""
    configuration = setup.get_configuration()
    if configuration is not None and configuration.store_processor is not None:
        configuration.store_processor.force_flush(30_000)


def read_store() -> FileStore | RemoteStore | SqlStore:
    """The active store, after flushing what this process still has for it."""
    store = active_store()
    assert store is not None
    flush_store()
    return store


def close_stores() -> None:
    """Close and forget the file stores this module opened (their index connections and
    writers); the next read opens them again. For test suites that configure many stores."""
    with _stores_lock:
        for store in _stores.values():
            store.close()
        _stores.clear()


def ensure_stored(span_id: int) -> None:
    """Check that the span with this id (an assessment's carrier, just ended) was written to
    the local file store: its processor writes carriers through, in the caller's thread
    (``setup``). Nothing to check without a file store: OTLP exporters and remote mode
    count their failures (``Configuration.stats()``) instead.

    Raises:
        StoreWriteError: the span could not be written (the message says why).
    """
    configuration = setup.get_configuration()
    if configuration is None or configuration.store_path is None:
        return
    processor = configuration.store_processor
    if processor is not None and processor.was_lost(span_id):
        cause = getattr(processor.exporter, "last_error", None) or "the write failed"
        raise StoreWriteError(
            f"the record could not be written to the store at {configuration.store_path}: {cause}"
        )
