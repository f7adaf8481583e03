"""The ``otelfeedback`` command line: one module per command group.

::

    otelfeedback traces search --filter "feedback.user_feedback = false" [--json]
    otelfeedback traces get TRACE_ID [--json]
    otelfeedback assessments log TRACE_ID --name user_feedback --value false
    otelfeedback assessments list TRACE_ID [--json]
    otelfeedback store reindex
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from otelfeedback.errors import NotFoundError, OtelFeedbackError


def build_parser() -> argparse.ArgumentParser:
    from otelfeedback.cli import assessments, server, store, traces

    parser = argparse.ArgumentParser(
        prog="otelfeedback", description="Look at traces and feedback in an otelfeedback store."
    )
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    traces.register(groups)
    assessments.register(groups)
    store.register(groups)
    server.register(groups)  # `server` / `ui` (issue 5)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 not found, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except NotFoundError as exc:
        print(f"otelfeedback: {exc}", file=sys.stderr)
        return 1
    except OtelFeedbackError as exc:
        print(f"otelfeedback: {exc}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
