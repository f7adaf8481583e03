"""``otelfeedback datasets list|show|export|import|diff`` (``--json`` on each; ``--store`` a
directory or a server's URL)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from otelfeedback import config
from otelfeedback.cli._common import add_json_option, dump, iso, open_store, short, table
from otelfeedback.datasets import catalog
from otelfeedback.datasets.dataset import Dataset
from otelfeedback.datasets.entities import DatasetRecord
from otelfeedback.datasets.jsonl import export_line, read_jsonl
from otelfeedback.datasets.schema import extend as extend_schema
from otelfeedback.errors import NotFoundError
from otelfeedback.store.base import TraceStore
from otelfeedback.store.remote import RemoteStore, is_remote_url


def register(groups: Any) -> None:
    parser = groups.add_parser("datasets", help="list, show, export, import and diff datasets")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="every dataset at its latest version")
    _common(listing)
    listing.set_defaults(handler=_list)

    show = commands.add_parser("show", help="a dataset: its versions and first records")
    show.add_argument("dataset", help="name or id (d-...)")
    show.add_argument("--version", type=int, help="a version (default: the latest)")
    show.add_argument("--limit", type=int, default=20, help="records to show (20; 0: all)")
    _common(show)
    show.set_defaults(handler=_show)

    export = commands.add_parser("export", help="write a version as JSONL (docs/datasets.md)")
    export.add_argument("dataset", help="name or id (d-...)")
    export.add_argument("file", help="the JSONL file to write, or - for standard output")
    export.add_argument("--version", type=int, help="a version (default: the latest)")
    _common(export)
    export.set_defaults(handler=_export)

    load = commands.add_parser(
        "import", help="merge a JSONL file into a dataset (created if missing): one version"
    )
    load.add_argument("file", help="a JSONL file (one record a line)")
    load.add_argument("--name", required=True, help="the dataset to merge into")
    _common(load)
    load.set_defaults(handler=_import)

    diff = commands.add_parser("diff", help="what changed between two versions")
    diff.add_argument("dataset", help="name or id (d-...)")
    diff.add_argument("from_version", type=int, nargs="?", help="default: the one before TO")
    diff.add_argument("to_version", type=int, nargs="?", help="default: the latest")
    _common(diff)
    diff.set_defaults(handler=_diff)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="DIR_OR_URL",
        help="file store directory or server URL (default: $OTELFEEDBACK_STORE or "
        "./otelfeedback-data)",
    )
    add_json_option(parser)


def _open(args: argparse.Namespace) -> TraceStore:
    value = config.resolve("store", args.store)
    if is_remote_url(value):
        return RemoteStore(str(value), token=config.resolve("server_token"))
    store: TraceStore = open_store(args)
    return store


def _record_row(r: DatasetRecord) -> list[str]:
    expectations = ", ".join(f"{k}={short(v, 20)}" for k, v in r.expectations.items())
    source = r.source_type + (f" {r.source_id}" if r.source_id else "")
    return [r.record_id, short(r.inputs, 40), short(expectations or "-", 40), short(source, 44)]


def _list(args: argparse.Namespace) -> int:
    found = catalog.list_all(_open(args))
    if args.json:
        dump({"datasets": [d.to_dict() for d in found]})
        return 0
    rows = [
        [d.name, d.dataset_id, str(d.version), str(d.record_count), iso(d.last_update_time)]
        for d in found
    ]
    table(["NAME", "DATASET_ID", "VERSION", "RECORDS", "LAST_CHANGE_UTC"], rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    ds = catalog.get(_open(args), args.dataset, args.version)
    records = ds.records if args.limit <= 0 else ds.records[: args.limit]
    versions = ds.versions()
    if args.json:
        dump(
            {
                "dataset": ds.to_dict(),
                "versions": [v.to_dict() for v in versions],
                "records": [r.to_dict() for r in records],
            }
        )
        return 0
    print(f"{ds.name}  {ds.dataset_id}  version {ds.version} of {ds.latest_version}")
    print(f"{ds.record_count} records; created {iso(ds.created_time)} by {ds.created_by or '-'}")
    if versions:
        print()
        rows = [
            [
                str(v.version),
                iso(v.created_time),
                v.created_by or "-",
                v.operation,
                f"+{v.added} ~{v.changed} -{v.removed}",
                str(v.record_count),
            ]
            for v in versions
        ]
        table(["VERSION", "MADE_UTC", "BY", "OPERATION", "CHANGE", "RECORDS"], rows)
    if records:
        print()
        table(["RECORD_ID", "INPUTS", "EXPECTATIONS", "SOURCE"], [_record_row(r) for r in records])
        if len(records) < ds.record_count:
            print(f"... {ds.record_count - len(records)} more (--limit 0 shows all)")
    return 0


def _export(args: argparse.Namespace) -> int:
    ds = catalog.get(_open(args), args.dataset, args.version)
    if args.file == "-":
        for record in ds.records:
            sys.stdout.write(export_line(record))
        return 0
    count = ds.export_jsonl(Path(args.file))
    if args.json:
        dump({"dataset": ds.to_dict(), "file": args.file, "records": count})
    else:
        print(f"exported {count} records of {ds.name} version {ds.version} to {args.file}")
    return 0


def _import(args: argparse.Namespace) -> int:
    store = _open(args)
    # Checked before a dataset is created, so a bad file leaves nothing behind.
    extend_schema({}, read_jsonl(Path(args.file)))
    try:
        ds: Dataset = catalog.get(store, args.name)
        before, created = ds.version, False
    except NotFoundError:
        ds, before, created = catalog.create(store, args.name), 0, True
    ds.import_jsonl(Path(args.file))
    latest = ds.versions()[-1] if ds.version > before else None
    if args.json:
        dump({"dataset": ds.to_dict(), "created": created, "version": latest and latest.to_dict()})
    elif latest is None:
        print(f"nothing to change: {ds.name} stays at version {ds.version}")
    else:
        print(
            f"{'created' if created else 'merged into'} {ds.name}: version {ds.version} "
            f"(+{latest.added} ~{latest.changed}), {ds.record_count} records"
        )
    return 0


def _diff(args: argparse.Namespace) -> int:
    ds = catalog.get(_open(args), args.dataset)
    result = ds.diff(args.from_version, args.to_version)
    if args.json:
        dump(result.to_dict())
        return 0
    print(
        f"{ds.name}: version {result.from_version} -> {result.to_version}: "
        f"{len(result.added)} added, {len(result.changed)} changed, "
        f"{len(result.removed)} removed, {result.unchanged} unchanged"
    )
    rows = [["+", *_record_row(r)[:3]] for r in result.added]
    rows += [
        ["~", c.new.record_id, short(c.new.inputs, 40), ", ".join(c.fields)] for c in result.changed
    ]
    rows += [["-", *_record_row(r)[:3]] for r in result.removed]
    if rows:
        print()
        table(["", "RECORD_ID", "INPUTS", "EXPECTATIONS / CHANGED"], rows)
    return 0
