"""``otelfeedback store reindex | migrate | prune | copy``: maintain a store."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from otelfeedback import config
from otelfeedback.cli._common import add_json_option, add_store_option, dump, open_store
from otelfeedback.errors import ConfigurationError


def register(groups: Any) -> None:
    parser = groups.add_parser("store", help="maintain a store (file store or PostgreSQL)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    reindex = commands.add_parser(
        "reindex", help="rebuild the SQLite index from the OTLP/JSON segments and the records"
    )
    add_store_option(reindex)
    add_json_option(reindex)
    reindex.set_defaults(handler=_reindex)

    migrate = commands.add_parser(
        "migrate", help="bring a PostgreSQL store's schema up to date (also done on start)"
    )
    add_store_option(migrate)
    migrate.add_argument(
        "--partition-traces",
        type=int,
        metavar="N",
        help="traces per partition of the span tables, for a new database (1,000,000)",
    )
    add_json_option(migrate)
    migrate.set_defaults(handler=_migrate)

    prune = commands.add_parser(
        "prune", help="delete traces older than a duration from a PostgreSQL store"
    )
    add_store_option(prune)
    prune.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 30d, 12h, 2w")
    add_json_option(prune)
    prune.set_defaults(handler=_prune)

    copy = commands.add_parser(
        "copy",
        help="copy a file store into PostgreSQL or back (resumable: run it again after a stop)",
    )
    copy.add_argument("source", metavar="SRC", help="file store directory or PostgreSQL URL")
    copy.add_argument("target", metavar="DST", help="PostgreSQL URL or file store directory")
    copy.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_json_option(copy)
    copy.set_defaults(handler=_copy)


def _reindex(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with open_store(args) as store:
        if not hasattr(store, "reindex"):
            raise ConfigurationError("reindex: a PostgreSQL store has no derived index to rebuild")
        stats = store.reindex()
    seconds = time.perf_counter() - started
    result = {
        "lines": stats.lines,
        "spans": stats.spans,
        "assessment_records": stats.records,
        "records": stats.stored_records,
        "skipped_lines": stats.skipped_lines,
        "seconds": round(seconds, 3),
    }
    if args.json:
        dump(result)
    else:
        print(
            f"indexed {stats.spans} spans and {stats.records} assessment records from "
            f"{stats.lines} lines, {stats.stored_records} records (datasets, ...) from "
            f"{stats.record_lines} lines in {seconds:.2f} s ({stats.skipped_lines} lines skipped)"
        )
    return 0


def _database(args: argparse.Namespace, command: str, **options: Any) -> Any:
    from otelfeedback.store.sql.connect import is_postgres_url

    value = str(config.resolve("store", args.store) or "")
    if not is_postgres_url(value):
        raise ConfigurationError(
            f"{command}: needs a PostgreSQL store (--store postgresql://...); a file store "
            + (
                "migrates its index itself"
                if command == "migrate"
                else "is pruned by deleting old traces/segment-*.jsonl files, then "
                "'otelfeedback store reindex'"
            )
        )
    from otelfeedback.store.sql import SqlStore

    return SqlStore(value, **options)


def _migrate(args: argparse.Namespace) -> int:
    with _database(args, "migrate", partition_traces=args.partition_traces) as store:
        before = store.schema_version()
        applied = store.migrate()
        after = store.schema_version()
    if args.json:
        dump({"from_version": before, "to_version": after, "applied": applied})
    else:
        done = ", ".join(applied) if applied else "nothing to do"
        print(f"schema version {before} -> {after} ({done})")
    return 0


def _prune(args: argparse.Namespace) -> int:
    try:
        older_than = config.parse_duration(args.older_than)
    except ValueError as exc:
        raise ConfigurationError(f"--older-than {args.older_than!r}: {exc}") from None
    started = time.perf_counter()
    with _database(args, "prune") as store:
        stats = store.prune(older_than)
    seconds = time.perf_counter() - started
    if args.json:
        dump(
            {
                "traces": stats.traces,
                "partitions_dropped": stats.partitions_dropped,
                "assessment_records": stats.assessment_records,
                "seconds": round(seconds, 3),
            }
        )
    else:
        print(
            f"deleted {stats.traces} traces ({stats.partitions_dropped} partitions dropped) "
            f"older than {args.older_than} in {seconds:.2f} s"
        )
    return 0


def _copy(args: argparse.Namespace) -> int:
    from otelfeedback.cli._common import open_location
    from otelfeedback.store.sql.connect import is_postgres_url
    from otelfeedback.store.sql.transfer import copy_store

    source = open_location(args.source)
    if is_postgres_url(args.target):
        target = open_location(args.target)
    else:  # a new file store is created
        from otelfeedback.store import FileStore

        target = FileStore(Path(args.target).expanduser())
    last = [0.0]

    def progress(what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if args.quiet or (now - last[0] < 1.0 and done < total):
            return
        last[0] = now
        unit = (
            "bytes of segments"
            if what == "spans" and not is_postgres_url(args.source)
            else ("traces" if what == "spans" else "record versions")
        )
        share = f" ({100 * done / total:.0f}%)" if total else ""
        print(f"{what}: {done:,} of {total:,} {unit}{share}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    try:
        stats = copy_store(source, target, progress)
    finally:
        source.close()
        target.close()
    seconds = time.perf_counter() - started
    result = {
        "spans": stats.spans,
        "assessment_records": stats.assessment_records,
        "records": stats.records,
        "resumed": stats.resumed,
        "seconds": round(seconds, 3),
    }
    if args.json:
        dump(result)
    else:
        print(
            f"copied {stats.spans} spans, {stats.assessment_records} assessment records and "
            f"{stats.records} record versions in {seconds:.2f} s"
            + (" (resumed)" if stats.resumed else "")
        )
    return 0
