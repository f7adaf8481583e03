"""``create_app(store)``: the ASGI application (OTLP receiver, JSON API, web UI).

>>> from otelfeedback.server import create_app        # doctest: +SKIP
>>> app = create_app("./otelfeedback-data")           # doctest: +SKIP
>>> import uvicorn; uvicorn.run(app, port=5050)       # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from otelfeedback import config
from otelfeedback._internal.meta import package_version
from otelfeedback.errors import ConfigurationError, StoreUnavailableError
from otelfeedback.server import (
    api_assessments,
    api_datasets,
    api_evaluations,
    api_labeling,
    api_records,
    api_traces,
    backends,
    labeling_pages,
    labeling_schema_pages,
    openapi,
    pages,
    pages_datasets,
    pages_evaluations,
    rendering,
    review,
)
from otelfeedback.server.context import ServerContext
from otelfeedback.server.errors import EXCEPTION_HANDLERS
from otelfeedback.server.forms import FormRejected
from otelfeedback.server.limits import DEFAULT_MAX_API_BODY_BYTES, BodyLimitMiddleware
from otelfeedback.server.otlp import OTLPReceiver
from otelfeedback.server.pricing import load_prices
from otelfeedback.server.security import SecurityMiddleware, SecurityPolicy, host_name
from otelfeedback.server.writes import AssessmentWriter
from otelfeedback.store.background import BackgroundIndexer, ReadGate
from otelfeedback.store.file_store import FileStore

if TYPE_CHECKING:
    from otelfeedback.store.sql import SqlStore

#: Largest OTLP request body accepted, before and after gzip (the Collector's default
#: batch is far smaller).
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
OTLP_PATH = "/v1/traces"
#: Seconds a request may spend indexing new lines before it answers with what is indexed
#: (a background thread indexes the rest): pages stay fast while spans pour in.
DEFAULT_INDEX_BUDGET = 1.0


class ReadPriority:
    """ASGI middleware: a request other than an OTLP export holds the ``ReadGate`` while it
    runs, so that the background indexer gives way to pages and API reads. With
    ``exports``, OTLP exports hold it too (PostgreSQL: an export is acknowledged once
    queued, and the queue's indexer gives way to it)."""

    def __init__(self, app: ASGIApp, gate: ReadGate, exports: bool = False) -> None:
        self.app = app
        self.gate = gate
        self.exports = exports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["path"] == OTLP_PATH and not self.exports):
            await self.app(scope, receive, send)
            return
        with self.gate.reading():
            await self.app(scope, receive, send)


def create_app(
    store: FileStore | SqlStore | str | os.PathLike[str],
    *,
    token: str | None = None,
    loopback_only: bool | None = None,
    public_hosts: Iterable[str] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_api_body_bytes: int = DEFAULT_MAX_API_BODY_BYTES,
    prices: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    background_indexing: bool = True,
    retention_ms: int | None = None,
) -> Starlette:
    """The otelfeedback server as an ASGI app over ``store``: a file store (or its
    directory) or a PostgreSQL store (or its ``postgresql://`` URL).

    Args:
        store: the store to serve and to write received spans and assessments to.
        token: when set, every request must carry it (``Authorization: Bearer TOKEN``, or
            the cookie set by visiting ``/?token=TOKEN``).
        loopback_only: refuse requests whose ``Host`` is not a loopback address (DNS
            rebinding protection). Default: on without a token, off with one.
        public_hosts: with a token, the host names (``traces.example.com``, an address) to
            answer besides loopback ones; any other ``Host`` is refused (421). Needs a token.
        max_body_bytes: the largest batch accepted (413 above): an OTLP request, before and
            after gzip, or a ``POST /api/records`` body.
        max_api_body_bytes: the largest request body of the assessment API and the forms
            (413 above).
        prices: model prices for the UI's cost figures, USD per million tokens
            (``{"gpt-4o": {"input": 2.5, "output": 10}}``, or a JSON file of that), merged
            over the built-in table (``server.pricing``); default: the file named by
            ``OTELFEEDBACK_MODEL_PRICES``, if any.
        background_indexing: index new lines from a background thread while the app runs
            (its lifespan), so that requests spend at most ``DEFAULT_INDEX_BUDGET`` seconds
            catching up (a directory's store gets that budget; a ``FileStore`` passed in
            keeps its own ``index_budget``).
        retention_ms: delete traces older than this, every hour (PostgreSQL stores;
            default: the ``retention`` setting, unset keeps everything).

    Raises:
        ConfigurationError: ``store`` is another kind of URL, the token is empty, public
            host names are given without a token or are not host names, the prices do not
            read, or retention is asked of a file store.
    """
    owned = not isinstance(store, FileStore) and type(store).__name__ != "SqlStore"
    store = backends.open_store(store, index_budget=DEFAULT_INDEX_BUDGET)
    retention = backends.retention_for(store, config.resolve("retention", retention_ms))
    if token is not None and not token.strip():
        raise ConfigurationError("token: must not be empty")
    policy = SecurityPolicy(
        token=token,
        loopback_only=(token is None) if loopback_only is None else loopback_only,
        public_hosts=_public_hosts(public_hosts, token),
        # The review app checks its own signed links; static files are public.
        public_prefixes=("/review/", "/static/"),
    )
    receiver = OTLPReceiver(backends.span_sink(store), max_body_bytes)
    context = ServerContext(
        store=store,
        writer=AssessmentWriter(store),
        receiver=receiver,
        policy=policy,
        version=package_version(),
        selection_providers=[labeling_pages.selection_action, pages_datasets.selection_action],
        prices=load_prices(prices),
    )
    routes = [
        Route(OTLP_PATH, receiver.handle, methods=["POST"]),
        *api_traces.routes,
        *api_assessments.routes,
        *api_records.routes,
        *api_labeling.routes,
        *api_evaluations.routes,
        *openapi.routes,
        *pages.routes,
        *labeling_pages.routes,
        *labeling_schema_pages.routes,
        *review.routes,
        *pages_evaluations.routes,
        *api_datasets.routes,
        *pages_datasets.routes,
        Route("/static/{version}/{name}", rendering.static, methods=["GET"]),
    ]
    gate = ReadGate()
    background = (
        BackgroundIndexer(store.path, gate=gate)
        if background_indexing and isinstance(store, FileStore)
        else None
    )
    queue = None if isinstance(store, FileStore) else store  # PostgreSQL: index the queue

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if background is not None:
            background.start()
        if queue is not None:
            queue.start_indexer(gate)
        if retention is not None:
            retention.start()
        try:
            yield
        finally:
            if retention is not None:
                retention.stop()
            if queue is not None:
                queue.stop_indexer()
            if background is not None:
                background.stop()
            if owned:
                store.close()  # opened here from a location: its pool goes with the app

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityMiddleware, policy=policy),
            Middleware(ReadPriority, gate=gate, exports=queue is not None),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=max_api_body_bytes,
                limits={api_records.BATCH_PATH: max_body_bytes},
                exempt=frozenset({OTLP_PATH}),  # the receiver applies max_body_bytes
            ),
        ],
        exception_handlers={
            **EXCEPTION_HANDLERS,
            FormRejected: pages.form_rejected,
            StoreUnavailableError: backends.unavailable,
        },
        lifespan=lifespan,
    )
    app.state.otelfeedback = context
    return app


def _public_hosts(names: Iterable[str], token: str | None) -> frozenset[str]:
    if isinstance(names, str):
        names = [names]
    hosts = set()
    for raw in names:
        name = host_name(raw.strip()) if isinstance(raw, str) else None
        if name is None or not name.isascii() or any(c in name for c in "/@?# "):
            raise ConfigurationError(f"public_hosts: {raw!r} is not a host name")
        hosts.add(name)
    if hosts and token is None:
        raise ConfigurationError(
            "public_hosts: answering a public name needs a token (anyone who can reach "
            "the name could otherwise read and write the store)"
        )
    return frozenset(hosts)


def app_from_environment() -> Starlette:
    """``create_app`` over the store, token, public host names and retention the settings
    name (``OTELFEEDBACK_STORE``, ``OTELFEEDBACK_SERVER_TOKEN``,
    ``OTELFEEDBACK_SERVER_PUBLIC_HOSTS``, ``OTELFEEDBACK_RETENTION``): the app each process
    of ``otelfeedback server --workers N`` builds for itself.

    Raises:
        ConfigurationError: no store is set, or a setting is invalid.
    """
    store = config.resolve("store")
    if not store:
        raise ConfigurationError("no store: set OTELFEEDBACK_STORE")
    hosts = str(config.resolve("server_public_hosts") or "")
    return create_app(
        store,
        token=config.resolve("server_token") or None,
        public_hosts=[name.strip() for name in hosts.split(",") if name.strip()],
    )
