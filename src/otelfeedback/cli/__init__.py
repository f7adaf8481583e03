"""The ``otelfeedback`` command line: one module per command group.

::

    otelfeedback traces search --filter "feedback.user_feedback = false" [--json]
    otelfeedback traces get TRACE_ID_OR_PREFIX [--json]
    otelfeedback assessments log TRACE_ID --name user_feedback --value false
    otelfeedback assessments list TRACE_ID [--json]
    otelfeedback labeling sessions links quickstart_review --reviewer expert@example.com
    otelfeedback store reindex
    otelfeedback bridge replay --store DIR --to phoenix|mlflow URL
    otelfeedback eval runs list|show RUN_ID|compare BASE CANDIDATE [--json]
    otelfeedback eval alignment --judge correctness --human response_accuracy --map Accurate=yes
    otelfeedback datasets list|show|export|import|diff [--json]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from otelfeedback.errors import NotFoundError, OtelFeedbackError


def build_parser() -> argparse.ArgumentParser:
    from otelfeedback.cli import (
        assessments,
        bridge,
        datasets,
        evaluations,
        labeling,
        server,
        store,
        traces,
    )

    parser = argparse.ArgumentParser(
        prog="otelfeedback", description="Look at traces and feedback in an otelfeedback store."
    )
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    traces.register(groups)
    assessments.register(groups)
    labeling.register(groups)
    store.register(groups)
    evaluations.register(groups)
    datasets.register(groups)
    server.register(groups)  # `server` / `ui` (issue 5)
    bridge.register(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 not found, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``... | head``): stop quietly, as command-line tools do.
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141  # 128 + SIGPIPE, what a shell reports for a killed writer
    except NotFoundError as exc:
        print(f"otelfeedback: {exc}", file=sys.stderr)
        return 1
    except OtelFeedbackError as exc:
        print(f"otelfeedback: {exc}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
