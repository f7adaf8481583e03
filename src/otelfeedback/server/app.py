"""``create_app(store)``: the ASGI application (OTLP receiver, JSON API, web UI).

>>> from otelfeedback.server import create_app        # doctest: +SKIP
>>> app = create_app("./otelfeedback-data")           # doctest: +SKIP
>>> import uvicorn; uvicorn.run(app, port=5050)       # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from otelfeedback._internal.meta import package_version
from otelfeedback.errors import ConfigurationError
from otelfeedback.server import (
    api_assessments,
    api_datasets,
    api_evaluations,
    api_labeling,
    api_records,
    api_traces,
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

#: Largest OTLP request body accepted, before and after gzip (the Collector's default
#: batch is far smaller).
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
OTLP_PATH = "/v1/traces"
#: Seconds a request may spend indexing new lines before it answers with what is indexed
#: (a background thread indexes the rest): pages stay fast while spans pour in.
DEFAULT_INDEX_BUDGET = 1.0


class ReadPriority:
    """ASGI middleware: a request other than an OTLP export holds the ``ReadGate`` while it
    runs, so that the background indexer gives way to pages and API reads."""

    def __init__(self, app: ASGIApp, gate: ReadGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == OTLP_PATH:
            await self.app(scope, receive, send)
            return
        with self.gate.reading():
            await self.app(scope, receive, send)


def create_app(
    store: FileStore | str | os.PathLike[str],
    *,
    token: str | None = None,
    loopback_only: bool | None = None,
    public_hosts: Iterable[str] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_api_body_bytes: int = DEFAULT_MAX_API_BODY_BYTES,
    prices: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    background_indexing: bool = True,
) -> Starlette:
    """The otelfeedback server as an ASGI app over ``store`` (a file store or its directory).

    Args:
        store: the file store to serve and to write received spans and assessments to.
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

    Raises:
        ConfigurationError: ``store`` is a URL, the token is empty, or public host names
            are given without a token or are not host names, or the prices do not read.
    """
    if not isinstance(store, FileStore):
        text = os.fspath(store)
        if "://" in text:
            raise ConfigurationError(
                f"store={text!r}: the server serves a file store directory, not a URL"
            )
        store = FileStore(Path(text).expanduser(), index_budget=DEFAULT_INDEX_BUDGET)
    if token is not None and not token.strip():
        raise ConfigurationError("token: must not be empty")
    policy = SecurityPolicy(
        token=token,
        loopback_only=(token is None) if loopback_only is None else loopback_only,
        public_hosts=_public_hosts(public_hosts, token),
        # The review app checks its own signed links; static files are public.
        public_prefixes=("/review/", "/static/"),
    )
    receiver = OTLPReceiver(store.segment_writer().append, max_body_bytes)
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
    background = BackgroundIndexer(store.path, gate=gate) if background_indexing else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if background is not None:
            background.start()
        try:
            yield
        finally:
            if background is not None:
                background.stop()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityMiddleware, policy=policy),
            Middleware(ReadPriority, gate=gate),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=max_api_body_bytes,
                limits={api_records.BATCH_PATH: max_body_bytes},
                exempt=frozenset({OTLP_PATH}),  # the receiver applies max_body_bytes
            ),
        ],
        exception_handlers={**EXCEPTION_HANDLERS, FormRejected: pages.form_rejected},
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
