"""The public read functions (``get_trace``, ``search_traces``) over the active store.

They live at the store layer because they need both ``setup`` (which store; flush the pending
spans first, so a trace is readable right after the traced call) and the store itself.
``otelfeedback`` re-exports them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

from otelfeedback import config, setup
from otelfeedback.assessments import validation as v
from otelfeedback.errors import ConfigurationError, InvalidArgumentError
from otelfeedback.store.entities import Trace
from otelfeedback.store.file_store import FileStore
from otelfeedback.store.remote import RemoteStore

_stores: dict[Path, FileStore] = {}
_remotes: dict[tuple[str, str | None], RemoteStore] = {}
_stores_lock = threading.Lock()


def active_store(*, required: bool = True) -> FileStore | RemoteStore | None:
    """The store of the active configuration (configuring the defaults): a ``FileStore``,
    or a ``RemoteStore`` in remote mode (``store="http://..."``)."""
    url = setup.get_active_store_url()
    if url is not None:
        key = (url, config.resolve("server_token"))
        with _stores_lock:
            remote = _remotes.get(key)
            if remote is None:
                remote = _remotes[key] = RemoteStore(url, token=key[1])
            return remote
    path = setup.get_active_store_path()
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


def _read_store() -> FileStore | RemoteStore:
    store = active_store()
    assert store is not None
    flush_store()
    return store


# -- reads --------------------------------------------------------------------------------
def get_trace(trace_id: str) -> Trace:
    """The trace with its spans and assessments, from the active store.

    Spans finished in this process are flushed first, so a trace is readable right after
    the traced call returns.

    Raises:
        InvalidArgumentError: ``trace_id`` is not a 32-hex trace id.
        NotFoundError: no such trace in the store.
    """
    trace_id = v.check_trace_id(trace_id)
    return _read_store().get_trace(trace_id)


def search_traces(
    filter_string: str | None = None,
    max_results: int | None = 100,
    order_by: list[str] | str | None = None,
    run_id: str | None = None,
    page_token: str | None = None,
    return_type: Literal["list", "pandas"] = "list",
    include_spans: bool = True,
) -> Any:
    """Search the active store's traces; newest first unless ``order_by`` says otherwise.

    Example::

        search_traces("feedback.user_feedback = false AND span.type = 'RETRIEVER'")

    Args:
        filter_string: a filter in the search language (``docs/search.md``).
        max_results: page size (None: everything).
        order_by: e.g. ``["execution_time_ms DESC"]``.
        run_id: only traces tied to this run (metadata ``otelfeedback.run_id``).
        page_token: the ``.token`` of the previous page.
        return_type: ``"list"`` (a list of ``Trace`` with ``.token``) or ``"pandas"``.
        include_spans: load the spans too (False: info and assessments only).

    Raises:
        FilterSyntaxError: the filter does not parse (the message points at the token).
        InvalidArgumentError: a bad ``max_results``, ``order_by``, ``page_token`` or
            ``return_type``.
        MissingExtraError: ``return_type="pandas"`` without pandas installed.
    """
    if return_type not in ("list", "pandas"):
        raise InvalidArgumentError(
            "return_type", f"expected 'list' or 'pandas', got {return_type!r}"
        )
    if return_type == "pandas":
        from otelfeedback.store.frames import require_pandas

        require_pandas()
    page = _read_store().search_traces(
        filter_string, max_results, order_by, page_token, run_id, include_spans
    )
    if return_type == "pandas":
        from otelfeedback.store.frames import traces_to_frame

        return traces_to_frame(page)
    return page
