"""Helpers shared by the command groups: the ``--store`` option, output formatting."""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path
from typing import Any

from otelfeedback import config
from otelfeedback.errors import ConfigurationError
from otelfeedback.store.file_store import FileStore


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="DIR|URL",
        help="file store directory or PostgreSQL URL (default: $OTELFEEDBACK_STORE or "
        "./otelfeedback-data)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def store_path(args: argparse.Namespace) -> Path:
    """The file store directory ``--store`` names (it must exist)."""
    value = config.resolve("store", args.store)
    if not value:
        raise ConfigurationError("no store: pass --store DIR or set OTELFEEDBACK_STORE")
    path = Path(str(value)).expanduser()
    if not path.is_dir():
        raise ConfigurationError(f"--store: {path} is not a directory")
    return path


def open_store(args: argparse.Namespace) -> Any:
    """The store ``--store`` names: a ``FileStore``, or a ``SqlStore`` for a PostgreSQL URL."""
    value = config.resolve("store", args.store)
    return open_location(str(value) if value else "")


def open_location(text: str) -> Any:
    """A store by location: a PostgreSQL URL, else an existing file store directory.

    Raises:
        ConfigurationError: no such directory, or another kind of URL.
    """
    from otelfeedback.store.sql.connect import is_postgres_url, redact

    if is_postgres_url(text):
        from otelfeedback.store.sql import SqlStore

        return SqlStore(text)
    if "://" in text:
        raise ConfigurationError(
            f"{redact(text)!r}: expected a file store directory or a PostgreSQL URL"
        )
    if not text:
        raise ConfigurationError("no store: pass --store DIR or set OTELFEEDBACK_STORE")
    path = Path(text).expanduser()
    if not path.is_dir():
        raise ConfigurationError(f"--store: {path} is not a directory")
    return FileStore(path)


def dump(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def iso(ms: int | None) -> str:
    if ms is None:
        return "-"
    try:
        moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):  # past year 9999
        return f"{ms} ms"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
