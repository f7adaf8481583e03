"""``otelfeedback bridge replay``: send a file store's traces and assessments to Phoenix or
MLflow, through the same bridge the SDK uses live.

::

    otelfeedback bridge replay --store ./otelfeedback-data --to phoenix http://127.0.0.1:6006
    otelfeedback bridge replay --to mlflow http://127.0.0.1:5000 --experiment-id 1

The segments are read in order; each batch of spans goes over OTLP (carrier spans excepted)
and its assessment records are written natively, so the backend ends with the store's latest
state (overrides, updates and deletes applied). Replaying twice is harmless: Phoenix upserts
annotations by identifier, the MLflow bridge turns an existing assessment's create into an
update (spans sent twice are stored twice by MLflow, deduplicated by Phoenix).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from otelfeedback._internal.otlp_json.decode import OTLPDecodeError, SpanRecord, iter_spans
from otelfeedback._internal.otlp_json.segments import list_segments
from otelfeedback.bridges import BRIDGES, BridgeSpanExporter, MLflowBridge, PhoenixBridge
from otelfeedback.cli._common import add_json_option, add_store_option, dump, store_path
from otelfeedback.errors import ConfigurationError
from otelfeedback.export.otlp import parse_headers

logger = logging.getLogger("otelfeedback")
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_BATCH = 512


def register(groups: Any) -> None:
    parser = groups.add_parser("bridge", help="send a store to Arize Phoenix or MLflow")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    replay = commands.add_parser(
        "replay", help="send a store's traces and assessments to a backend, natively"
    )
    add_store_option(replay)
    replay.add_argument(
        "--to",
        nargs=2,
        metavar=("BACKEND", "URL"),
        required=True,
        help=f"the backend ({' or '.join(BRIDGES)}) and its base URL",
    )
    replay.add_argument("--project", help="Phoenix project (default: from the spans, else default)")
    replay.add_argument("--experiment-id", help="MLflow experiment id (default: 0)")
    replay.add_argument(
        "--header", action="append", default=[], metavar="KEY=VALUE", help="extra request header"
    )
    replay.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the backend at the end"
    )
    add_json_option(replay)
    replay.set_defaults(handler=_replay)


def _bridge(args: argparse.Namespace) -> BridgeSpanExporter:
    name, url = args.to
    kind = BRIDGES.get(name.lower())
    if kind is None:
        raise ConfigurationError(f"--to {name!r}: expected one of {', '.join(BRIDGES)}")
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigurationError(f"--to {name} {url!r}: expected an http:// or https:// URL")
    headers = parse_headers(",".join(args.header), "--header")
    if kind is PhoenixBridge:
        return PhoenixBridge(url, project=args.project, headers=headers)
    return MLflowBridge(url, experiment_id=args.experiment_id, headers=headers)


def readable_span(span: SpanRecord, resource: Resource) -> ReadableSpan:
    """A stored span as the SDK's ``ReadableSpan``, for exporters."""
    trace_id = int(span.trace_id, 16)
    context = SpanContext(trace_id, int(span.span_id, 16), False, _SAMPLED)
    parent = (
        SpanContext(trace_id, int(span.parent_id, 16), False, _SAMPLED) if span.parent_id else None
    )
    code = StatusCode(span.status_code) if span.status_code in (0, 1, 2) else StatusCode.UNSET
    message = span.status_message if code is StatusCode.ERROR else None
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=span.attributes,
        events=[Event(e.name, e.attributes, e.timestamp_ns) for e in span.events],
        links=[
            Link(
                SpanContext(int(lk["trace_id"], 16), int(lk["span_id"], 16), True, _SAMPLED),
                lk.get("attributes") or {},
            )
            for lk in span.links
        ],
        kind=SpanKind(max(0, span.kind - 1)) if 0 < span.kind <= 5 else SpanKind.INTERNAL,
        status=Status(code, message),
        start_time=span.start_time_ns,
        end_time=span.end_time_ns,
        instrumentation_scope=InstrumentationScope(
            span.scope.get("name", ""), span.scope.get("version") or None
        ),
    )


def stored_spans(store: Path, skipped: list[int]) -> Iterator[ReadableSpan]:
    """Every span of a file store, in the order it was written; a corrupt line is skipped
    (counted in ``skipped``) with a warning."""
    for _, path in list_segments(store / "traces"):
        with path.open("rb") as lines:
            for number, raw in enumerate(lines, 1):
                if not raw.strip():
                    continue
                try:
                    decoded: list[SpanRecord] = list(iter_spans(json.loads(raw)))
                except (ValueError, OTLPDecodeError, RecursionError) as exc:
                    skipped[0] += 1
                    logger.warning(
                        "skipping corrupt line %d of %s: %s", number, path, str(exc)[:200]
                    )
                    continue
                resources: dict[int, Resource] = {}
                for span in decoded:
                    key = id(span.resource)
                    if key not in resources:
                        resources[key] = Resource(span.resource)
                    yield readable_span(span, resources[key])


def _replay(args: argparse.Namespace) -> int:
    store = store_path(args)
    bridge = _bridge(args)
    skipped = [0]
    sent = failed = 0
    batch: list[ReadableSpan] = []

    def send() -> None:
        nonlocal sent, failed
        if batch:
            ok = bridge.export(batch).name == "SUCCESS"
            sent, failed = sent + len(batch), failed + (0 if ok else len(batch))
            batch.clear()
            if bridge.stats()["assessments"]["queued"] > _BATCH:
                bridge.force_flush(int(args.timeout * 1000))  # keep the queue from overflowing

    for span in stored_spans(store, skipped):
        batch.append(span)
        if len(batch) >= _BATCH:
            send()
    send()
    finished = bridge.force_flush(int(args.timeout * 1000))
    writes = bridge.stats()["assessments"]
    bridge.shutdown()
    result = {
        "backend": args.to[0],
        "url": args.to[1],
        "spans": sent,
        "spans_failed": failed,
        "assessment_writes": writes,
        "skipped_lines": skipped[0],
        "finished": finished,
    }
    if args.json:
        dump(result)
    else:
        print(
            f"sent {sent} spans ({failed} failed) and {writes['written']} assessment writes "
            f"({writes['failed']} failed, {writes['dropped']} dropped) to {args.to[0]} "
            f"{args.to[1]}; {skipped[0]} corrupt lines skipped"
        )
    problems = failed or writes["failed"] or writes["dropped"] or writes["queued"]
    if problems or not finished:
        print("otelfeedback: the backend did not take everything (see above)", file=sys.stderr)
        return 1
    return 0
