"""``otelfeedback assessments log|list``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from otelfeedback.assessments.entities import AssessmentSource
from otelfeedback.assessments.validation import check_trace_id
from otelfeedback.cli._common import (
    add_json_option,
    add_store_option,
    dump,
    open_store,
    short,
    table,
)
from otelfeedback.errors import InvalidArgumentError


def register(groups: Any) -> None:
    parser = groups.add_parser("assessments", help="log and list feedback and expectations")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    log = commands.add_parser("log", help="record feedback or an expectation on a trace")
    log.add_argument("trace_id")
    log.add_argument("--name", required=True)
    log.add_argument(
        "--value", required=True, help='a JSON value (true, 4, "text", [...], {...}) or plain text'
    )
    log.add_argument("--expectation", action="store_true", help="an expectation, not feedback")
    log.add_argument("--rationale")
    log.add_argument("--source-type", default="HUMAN", help="HUMAN (default), LLM_JUDGE, CODE")
    log.add_argument("--source-id", default="cli")
    log.add_argument("--span-id")
    log.add_argument("--metadata", help="a JSON object")
    add_store_option(log)
    add_json_option(log)
    log.set_defaults(handler=_log)

    listing = commands.add_parser("list", help="list a trace's assessments")
    listing.add_argument("trace_id")
    listing.add_argument("--all", action="store_true", help="include overridden ones")
    add_store_option(listing)
    add_json_option(listing)
    listing.set_defaults(handler=_list)


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _log(args: argparse.Namespace) -> int:
    from otelfeedback.api import assessments as api

    metadata = None
    if args.metadata is not None:
        metadata = _json_or_text(args.metadata)
        if not isinstance(metadata, dict):
            raise InvalidArgumentError("--metadata", "expected a JSON object")
    value = _json_or_text(args.value)
    source = AssessmentSource(args.source_type, args.source_id)
    with open_store(args) as store, api.writing_to(store, service_name="otelfeedback-cli"):
        if args.expectation:
            result: Any = api.log_expectation(
                args.trace_id,
                args.name,
                value,
                source=source,
                span_id=args.span_id,
                metadata=metadata,
            )
        else:
            result = api.log_feedback(
                args.trace_id,
                args.name,
                value,
                rationale=args.rationale,
                source=source,
                span_id=args.span_id,
                metadata=metadata,
            )
    if args.json:
        dump(result.to_dict())
    else:
        print(result.assessment_id)
    return 0


def _list(args: argparse.Namespace) -> int:
    trace_id = check_trace_id(args.trace_id)
    with open_store(args) as store:
        trace = store.get_trace(trace_id)
    items = [a for a in trace.assessments if a.valid or args.all]
    if args.json:
        dump([a.to_dict() for a in items])
        return 0
    rows = [
        [
            a.assessment_id or "",
            a.kind,
            a.name,
            short(a.value, 30),
            f"{a.source.source_type}/{a.source.source_id}",
            "yes" if a.valid else "no",
            short(a.rationale or "", 40),
        ]
        for a in items
    ]
    table(["ID", "KIND", "NAME", "VALUE", "SOURCE", "VALID", "RATIONALE"], rows)
    return 0
