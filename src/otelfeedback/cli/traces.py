"""``otelfeedback traces search|get``."""

from __future__ import annotations

import argparse
from typing import Any

from otelfeedback.assessments.validation import check_trace_id
from otelfeedback.cli._common import (
    add_json_option,
    add_store_option,
    dump,
    iso,
    open_store,
    short,
    table,
)
from otelfeedback.errors import InvalidArgumentError, NotFoundError


def register(groups: Any) -> None:
    parser = groups.add_parser("traces", help="search and show traces")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    search = commands.add_parser("search", help="list traces matching a filter, newest first")
    search.add_argument("--filter", "-f", dest="filter_string", help="filter (docs/search.md)")
    search.add_argument("--max-results", "-n", type=int, default=20, help="page size (20)")
    search.add_argument("--order-by", action="append", help="e.g. 'execution_time_ms DESC'")
    search.add_argument("--page-token", help="token printed after the previous page")
    search.add_argument("--run-id", help="only traces of this run")
    add_store_option(search)
    add_json_option(search)
    search.set_defaults(handler=_search)

    get = commands.add_parser("get", help="show one trace with its spans and assessments")
    get.add_argument("trace_id", help="a trace id, or a unique prefix of one (as the UI shows)")
    add_store_option(get)
    add_json_option(get)
    get.set_defaults(handler=_get)


def _assessment_summary(trace: Any) -> str:
    parts = [f"{a.name}={short(a.value, 12)}" for a in trace.assessments if a.valid]
    return ", ".join(parts)


def _search(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        page = store.search_traces(
            args.filter_string,
            args.max_results,
            args.order_by,
            args.page_token,
            args.run_id,
            include_spans=False,
        )
    if args.json:
        dump({"traces": [t.info.to_dict() for t in page], "next_page_token": page.token})
        return 0
    rows = [
        [
            t.trace_id,
            iso(t.info.timestamp_ms),
            short(t.info.name or "-", 24),
            t.info.status,
            f"{t.info.execution_time_ms:.0f}",
            short(t.info.request_preview or "", 30),
            _assessment_summary(t),
        ]
        for t in page
    ]
    table(["TRACE_ID", "TIME (UTC)", "NAME", "STATUS", "MS", "REQUEST", "ASSESSMENTS"], rows)
    if page.token:
        print(f"\nmore: --page-token {page.token}")
    return 0


def resolve_trace_id(store: Any, text: str) -> str:
    """A full trace id from a full id or a unique prefix (as the UI shows them).

    Raises:
        InvalidArgumentError: not hex, or a prefix matching several traces.
        NotFoundError: no trace starts with it.
    """
    prefix = text.strip().lower()
    if len(prefix) == 32:
        return check_trace_id(prefix)
    if not prefix or len(prefix) > 32 or any(c not in "0123456789abcdef" for c in prefix):
        raise InvalidArgumentError(
            "trace_id", f"expected a trace id or its hex prefix, got {text!r}"
        )
    found = store.search_traces(
        f"trace.trace_id LIKE '{prefix}%'", max_results=5, include_spans=False
    )
    if not found:
        raise NotFoundError(f"no trace id starts with {prefix!r}")
    if len(found) > 1:
        ids = ", ".join(t.trace_id for t in found)
        raise InvalidArgumentError("trace_id", f"{prefix!r} matches several traces: {ids}")
    return str(found[0].trace_id)


def _get(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        trace = store.get_trace(resolve_trace_id(store, args.trace_id))
    if args.json:
        dump(trace.to_dict())
        return 0
    info = trace.info
    print(f"trace     {info.trace_id}")
    print(f"name      {info.name}    status {info.status}    {info.execution_time_ms:.1f} ms")
    print(f"started   {iso(info.timestamp_ms)} UTC    service {info.service_name or '-'}")
    print(f"tokens    in {info.input_tokens}  out {info.output_tokens}")
    if info.tags:
        print(f"tags      {short(info.tags, 80)}")
    if info.metadata:
        print(f"metadata  {short(info.metadata, 80)}")
    print("\nspans")
    depth: dict[str | None, int] = {}
    for span in trace.spans:
        level = depth.get(span.parent_id, -1) + 1
        depth[span.span_id] = level
        print(
            f"  {'  ' * level}{span.name} [{span.span_type}] {span.duration_ms:.1f} ms "
            f"{span.status}  {span.span_id}"
        )
    print("\nassessments")
    for a in trace.assessments:
        flag = "" if a.valid else " (overridden)"
        print(
            f"  {a.assessment_id}  {a.kind} {a.name} = {short(a.value, 40)}{flag}  "
            f"by {a.source.source_type}/{a.source.source_id}"
        )
        if a.rationale:
            print(f"      {short(a.rationale, 100)}")
    return 0
