"""``otelfeedback labeling``: label schemas, labeling sessions, review links, agreement.

::

    otelfeedback labeling schemas list|create|delete
    otelfeedback labeling sessions list|create|add-traces|links|agreement
    otelfeedback labeling secret rotate
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from otelfeedback import config
from otelfeedback.cli._common import add_json_option, add_store_option, dump, iso, open_store, table
from otelfeedback.store.file_store import FileStore

SERVICE_NAME = "otelfeedback-cli"


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[FileStore]:
    from otelfeedback.labeling import using_store

    with open_store(args) as store, using_store(store, service_name=SERVICE_NAME):
        yield store


def _command(commands: Any, name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
    add_store_option(parser)
    add_json_option(parser)
    parser.set_defaults(handler=handler)
    return parser


def register(groups: Any) -> None:
    parser = groups.add_parser("labeling", help="label schemas, labeling sessions, review links")
    areas = parser.add_subparsers(dest="area", metavar="AREA", required=True)

    schemas = areas.add_parser("schemas", help="what reviewers are asked")
    schema_commands = schemas.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _command(schema_commands, "list", "list the label schemas", _schemas_list)
    create = _command(schema_commands, "create", "create a label schema", _schemas_create)
    create.add_argument("name")
    create.add_argument("--type", choices=["feedback", "expectation"], default="feedback")
    create.add_argument("--title", required=True, help="the question reviewers see")
    create.add_argument(
        "--input",
        choices=["categorical", "categorical_list", "text", "text_list", "numeric"],
        default="categorical",
    )
    create.add_argument("--option", action="append", default=[], help="a choice (repeat)")
    create.add_argument("--max-length", type=int)
    create.add_argument("--max-length-each", type=int)
    create.add_argument("--max-count", type=int)
    create.add_argument("--min", type=float, dest="min_value")
    create.add_argument("--max", type=float, dest="max_value")
    create.add_argument("--instruction")
    create.add_argument("--comment", action="store_true", help="offer a comment box")
    create.add_argument("--overwrite", action="store_true")
    delete = _command(schema_commands, "delete", "delete a label schema", _schemas_delete)
    delete.add_argument("name")

    sessions = areas.add_parser("sessions", help="sets of traces for experts to label")
    session_commands = sessions.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _command(session_commands, "list", "list the labeling sessions", _sessions_list)
    new = _command(session_commands, "create", "create a labeling session", _sessions_create)
    new.add_argument("name")
    new.add_argument("--schema", action="append", required=True, help="a label schema (repeat)")
    new.add_argument("--user", action="append", help="an assigned reviewer (repeat)")
    new.add_argument("--instructions")
    new.add_argument("--reviewers-per-item", type=int, default=1)
    add = _command(session_commands, "add-traces", "add traces to a session", _sessions_add)
    add.add_argument("session", help="the session's name or id")
    add.add_argument("trace_ids", nargs="*", metavar="TRACE_ID")
    add.add_argument("--filter", "-f", help="add every trace matching this filter")
    links = _command(session_commands, "links", "print review links", _sessions_links)
    links.add_argument("session", help="the session's name or id")
    links.add_argument("--reviewer", action="append", help="a reviewer's own link (repeat)")
    links.add_argument("--days", type=float, default=14.0, help="valid for (14)")
    links.add_argument("--base-url", help="the server's URL (default: $OTELFEEDBACK_SERVER_URL)")
    agreement = _command(session_commands, "agreement", "agreement between reviewers", _agreement)
    agreement.add_argument("session", help="the session's name or id")

    secret = areas.add_parser("secret", help="the key review links are signed with")
    secret_commands = secret.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _command(secret_commands, "rotate", "revoke every review link given out", _rotate)


# -- schemas -------------------------------------------------------------------------------------
def _schemas_list(args: argparse.Namespace) -> int:
    from otelfeedback.labeling import list_label_schemas

    with _store(args):
        schemas = list_label_schemas()
    if args.json:
        dump([s.to_dict() for s in schemas])
        return 0
    rows = [[s.name, s.type, s.input.type, s.title] for s in schemas]
    table(["NAME", "TYPE", "INPUT", "TITLE"], rows)
    return 0


def _schemas_create(args: argparse.Namespace) -> int:
    from otelfeedback.labeling import create_label_schema
    from otelfeedback.labeling.inputs import INPUT_FIELDS, input_from_dict

    wanted = {"options": args.option}
    for name in ("max_length", "max_length_each", "max_count", "min_value", "max_value"):
        wanted[name] = getattr(args, name)
    data = {"type": args.input, **{k: wanted[k] for k in INPUT_FIELDS[args.input]}}
    with _store(args):
        schema = create_label_schema(
            args.name,
            type=args.type,
            title=args.title,
            input=input_from_dict(data, "--input"),
            instruction=args.instruction,
            enable_comment=args.comment,
            overwrite=args.overwrite,
        )
    if args.json:
        dump(schema.to_dict())
    else:
        print(schema.name)
    return 0


def _schemas_delete(args: argparse.Namespace) -> int:
    from otelfeedback.labeling import delete_label_schema

    with _store(args):
        delete_label_schema(args.name)
    return 0


# -- sessions ------------------------------------------------------------------------------------
def _sessions_list(args: argparse.Namespace) -> int:
    from otelfeedback.labeling import list_labeling_sessions

    with _store(args):
        found = [(s, s.progress()) for s in list_labeling_sessions()]
    if args.json:
        dump([{**s.to_dict(), "progress": p.to_dict()} for s, p in found])
        return 0
    rows = [
        [
            s.name,
            s.labeling_session_id,
            f"{p.done}/{p.total}",
            ",".join(s.label_schemas),
            iso(s.created_time_ms),
        ]
        for s, p in found
    ]
    table(["NAME", "ID", "DONE", "SCHEMAS", "CREATED"], rows)
    return 0


def _sessions_create(args: argparse.Namespace) -> int:
    from otelfeedback.labeling import create_labeling_session

    with _store(args):
        session = create_labeling_session(
            args.name,
            label_schemas=args.schema,
            assigned_users=args.user,
            instructions=args.instructions,
            reviewers_per_item=args.reviewers_per_item,
        )
    if args.json:
        dump(session.to_dict())
    else:
        print(session.labeling_session_id)
    return 0


def _sessions_add(args: argparse.Namespace) -> int:
    from otelfeedback.errors import InvalidArgumentError
    from otelfeedback.labeling import get_labeling_session, items

    if bool(args.trace_ids) == bool(args.filter):
        raise InvalidArgumentError("TRACE_ID", "give trace ids or --filter (one of them)")
    with _store(args) as store:
        session = get_labeling_session(args.session)
        if args.filter:
            found = store.search_traces(args.filter, None, None, None, None, False)
            ids = [t.info.trace_id for t in found]
        else:
            ids = items.trace_ids(args.trace_ids)
        added = items.add(store, session, ids)
        total = session.progress().total
    if args.json:
        dump({"added": added, "total": total})
    else:
        print(f"added {added} trace(s); the session has {total}")
    return 0


def _sessions_links(args: argparse.Namespace) -> int:
    from otelfeedback.labeling import get_labeling_session, links
    from otelfeedback.labeling.sessions import check_reviewer

    base = args.base_url or str(config.resolve("server_url"))
    with _store(args) as store:
        session = get_labeling_session(args.session)
        reviewers = args.reviewer or [""]
        expires = links.expiry_seconds(args.days * 86400)
        found = []
        for reviewer in reviewers:
            user = check_reviewer(session, reviewer, "--reviewer") if reviewer else ""
            token = links.sign(store, session.labeling_session_id, user, expires)
            found.append({"reviewer": user or None, "url": links.link_url(base, token)})
    if args.json:
        dump({"expires_time_ms": expires * 1000, "links": found})
        return 0
    for link in found:
        print(f"{link['reviewer'] or '(shared)'}\t{link['url']}")
    return 0


def _agreement(args: argparse.Namespace) -> int:
    from otelfeedback.labeling import get_labeling_session

    with _store(args):
        report = get_labeling_session(args.session).agreement()
    if args.json:
        dump(report.to_dict())
        return 0

    def stat(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    rows = [
        [
            a.schema,
            a.level,
            str(a.items),
            str(a.reviewers),
            stat(a.percent_agreement),
            stat(a.krippendorff_alpha),
            stat(a.fleiss_kappa),
            str(len(a.disagreements)),
        ]
        for a in report.schemas
    ]
    table(
        ["SCHEMA", "LEVEL", "ITEMS", "REVIEWERS", "AGREEMENT", "ALPHA", "KAPPA", "DISAGREE"], rows
    )
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from otelfeedback.labeling import links

    with _store(args) as store:
        version = links.rotate(store)
    if args.json:
        dump({"key_version": version})
    else:
        print("rotated: every review link given out so far no longer works")
    return 0
