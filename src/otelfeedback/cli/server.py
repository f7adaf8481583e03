"""``otelfeedback server`` (alias ``otelfeedback ui``): serve a store over HTTP.

The OTLP/HTTP receiver (``/v1/traces``), the JSON API (``/api/...``) and the web UI, in one
process or, with ``--workers N``, in N processes sharing the store (a PostgreSQL database or
a file store). Binds 127.0.0.1:5050 by default; any other address needs a token.
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path
from typing import Any

from otelfeedback import config
from otelfeedback.errors import ConfigurationError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5050


def register(groups: Any) -> None:
    for name in ("server", "ui"):
        parser = groups.add_parser(
            name,
            help="run the web UI, JSON API and OTLP receiver"
            + (" (alias of 'server')" if name == "ui" else ""),
            description="Serve a store: web UI, JSON API (/api, OpenAPI at "
            "/api/openapi.json) and OTLP/HTTP receiver (/v1/traces).",
        )
        parser.add_argument(
            "--store",
            metavar="DIR|URL",
            help="file store directory (created if missing) or PostgreSQL URL "
            "(postgresql://user@host/db); default: $OTELFEEDBACK_STORE or ./otelfeedback-data",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="server processes sharing the store (1); each takes OTLP and serves pages",
        )
        parser.add_argument(
            "--retention",
            metavar="DURATION",
            help="PostgreSQL store: delete traces older than this (30d, 12h...) every hour "
            "(default: $OTELFEEDBACK_RETENTION; unset keeps everything)",
        )
        parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (127.0.0.1)")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (5050)")
        parser.add_argument(
            "--token",
            help="require this token on every request (default: $OTELFEEDBACK_SERVER_TOKEN); "
            "needed to bind a non-loopback address; 'generate' makes one up (and prints it)",
        )
        parser.add_argument(
            "--public-host",
            action="append",
            metavar="NAME",
            help="with a token: a host name to answer besides loopback ones (repeatable; "
            "default: $OTELFEEDBACK_SERVER_PUBLIC_HOSTS, comma-separated); requests for any "
            "other name are refused",
        )
        parser.set_defaults(handler=run)


def _store_dir(args: argparse.Namespace) -> Path | str:
    value = config.resolve("store", args.store)
    if not value:
        raise ConfigurationError("no store: pass --store DIR or set OTELFEEDBACK_STORE")
    text = str(value)
    from otelfeedback.store.sql.connect import is_postgres_url, redact

    if is_postgres_url(text):
        return text
    if "://" in text:
        raise ConfigurationError(
            f"--store {redact(text)!r}: the server serves a file store directory or a "
            "PostgreSQL database (postgresql://...)"
        )
    path = Path(text).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"--store: {path} is not a directory")
    return path


def resolve_token(args: argparse.Namespace) -> tuple[str | None, bool]:
    """The token, and whether it was generated here (and so must be shown once)."""
    from otelfeedback.server.security import is_loopback

    token = config.resolve("server_token", args.token) or None
    generated = token == "generate"
    if generated:
        token = secrets.token_urlsafe(24)
    if token is None and not is_loopback(args.host):
        raise ConfigurationError(
            f"--host {args.host}: binding a non-loopback address needs a token; pass "
            "--token TOKEN (or --token generate) or set OTELFEEDBACK_SERVER_TOKEN"
        )
    return token, generated


def _public_hosts(args: argparse.Namespace) -> list[str]:
    if args.public_host:
        return list(args.public_host)
    raw = config.resolve("server_public_hosts") or ""
    return [name.strip() for name in raw.split(",") if name.strip()]


def run(args: argparse.Namespace) -> int:
    from otelfeedback.server import require_server_extra

    require_server_extra()
    import uvicorn

    from otelfeedback.server.app import create_app

    if not 0 <= args.port <= 65535:
        raise ConfigurationError(f"--port {args.port}: expected 0 to 65535")
    if args.workers < 1:
        raise ConfigurationError(f"--workers {args.workers}: expected 1 or more")
    store = _store_dir(args)
    token, generated = resolve_token(args)
    public_hosts = _public_hosts(args)
    retention = args.retention or os.environ.get("OTELFEEDBACK_RETENTION", "")
    try:
        retention_ms = config.parse_duration(retention) if retention.strip() else None
    except ValueError as exc:
        raise ConfigurationError(f"--retention {retention!r}: {exc}") from None
    store_shown = store
    if isinstance(store, str):  # a database: migrate once, here, and fail early
        from otelfeedback.store.sql import SqlStore
        from otelfeedback.store.sql.connect import redact

        with SqlStore(store) as database:
            database.migrate()
        store_shown = redact(store)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}"
    print(
        f"otelfeedback server: {url}/  (store: {store_shown}, {args.workers} worker(s))",
        flush=True,
    )
    if token:
        # A token the user chose is never echoed (it would end up in logs); a generated one
        # is shown once, since nobody else knows it.
        shown = token if generated else "<your token>"
        print(f"open the UI with: {url}/?token={shown}", flush=True)
        print("API and OTLP clients send: Authorization: Bearer <token>", flush=True)
    print(f"send traces: configure(store={url!r}) or OTLP to {url}/v1/traces", flush=True)
    options: dict[str, Any] = {"log_level": "warning", "access_log": False}
    if args.workers == 1:
        app = create_app(store, token=token, public_hosts=public_hosts, retention_ms=retention_ms)
        uvicorn.run(app, host=args.host, port=args.port, **options)
        return 0
    # Each worker process builds its app from the settings (uvicorn imports it anew).
    os.environ["OTELFEEDBACK_STORE"] = str(store)
    if token:
        os.environ["OTELFEEDBACK_SERVER_TOKEN"] = token
    if retention_ms is not None:
        os.environ["OTELFEEDBACK_RETENTION"] = f"{retention_ms / 1000}s"
    os.environ["OTELFEEDBACK_SERVER_PUBLIC_HOSTS"] = ",".join(public_hosts)
    # fail here, not in N workers
    create_app(store, token=token, public_hosts=public_hosts, retention_ms=retention_ms)
    uvicorn.run(
        "otelfeedback.server.app:app_from_environment",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        **options,
    )
    return 0
