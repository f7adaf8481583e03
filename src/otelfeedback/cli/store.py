"""``otelfeedback store reindex``."""

from __future__ import annotations

import argparse
import time
from typing import Any

from otelfeedback.cli._common import add_json_option, add_store_option, dump, open_store


def register(groups: Any) -> None:
    parser = groups.add_parser("store", help="maintain a file store")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    reindex = commands.add_parser(
        "reindex", help="rebuild the SQLite index from the OTLP/JSON segments and the records"
    )
    add_store_option(reindex)
    add_json_option(reindex)
    reindex.set_defaults(handler=_reindex)


def _reindex(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with open_store(args) as store:
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
