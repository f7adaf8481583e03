"""``otelfeedback eval runs list|show|compare`` and ``otelfeedback eval alignment``."""

from __future__ import annotations

import argparse
from typing import Any

from otelfeedback.cli._common import (
    add_json_option,
    add_store_option,
    dump,
    iso,
    open_store,
    short,
    table,
)
from otelfeedback.evaluation import runs
from otelfeedback.evaluation.compare import compare_runs
from otelfeedback.evaluation.judge_alignment import compute_alignment, parse_mapping


def register(groups: Any) -> None:
    parser = groups.add_parser("eval", help="evaluation runs and judge-vs-human alignment")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    runs_parser = commands.add_parser("runs", help="list, show and compare evaluation runs")
    run_commands = runs_parser.add_subparsers(dest="runs_command", metavar="COMMAND", required=True)
    listing = run_commands.add_parser("list", help="every run, newest first")
    add_store_option(listing)
    add_json_option(listing)
    listing.set_defaults(handler=_list)

    show = run_commands.add_parser("show", help="one run: scorers, metrics, rows")
    show.add_argument("run_id")
    show.add_argument("--rows", type=int, default=20, help="rows to print (20; 0: none)")
    add_store_option(show)
    add_json_option(show)
    show.set_defaults(handler=_show)

    compare = run_commands.add_parser("compare", help="metric deltas, regressed/improved rows")
    compare.add_argument("base_run_id")
    compare.add_argument("candidate_run_id")
    add_store_option(compare)
    add_json_option(compare)
    compare.set_defaults(handler=_compare)

    align = commands.add_parser("alignment", help="agreement of a judge with human labels")
    align.add_argument("--judge", required=True, help="the judge's feedback name")
    align.add_argument("--human", required=True, help="the human label's feedback name")
    align.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HUMAN=JUDGE",
        help="map a human value to the judge's, e.g. 'Accurate=yes' (repeatable)",
    )
    align.add_argument("--judge-model", help="pin this judge model (default: the newest)")
    align.add_argument("--prompt-hash", help="pin this prompt hash (default: the newest)")
    align.add_argument("--run-id", help="only judge results of this run")
    align.add_argument("--positive", default="yes", help="the positive label (yes)")
    add_store_option(align)
    add_json_option(align)
    align.set_defaults(handler=_alignment)


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.3g}" for k, v in sorted(metrics.items())) or "-"


def _list(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        found = runs.list_runs(store)
    if args.json:
        dump({"runs": [r.to_dict() for r in found]})
        return 0
    rows = [
        [
            r.run_id,
            iso(r.created_time_ms),
            short(r.name, 30),
            r.status,
            str(r.row_count),
            str(r.error_count),
            short(_metrics(r.metrics), 60),
        ]
        for r in found
    ]
    table(["RUN_ID", "STARTED (UTC)", "NAME", "STATUS", "ROWS", "ERRORS", "METRICS"], rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        run = runs.get_run(store, runs.check_run_id(args.run_id))
        rows = runs.run_rows(store, run.run_id)
    if args.json:
        dump({**run.to_dict(), "rows": [r.to_dict() for r in rows]})
        return 0
    source = run.data_source
    dataset = source.get("dataset")
    print(f"run       {run.run_id}  {run.name!r}  {run.status}")
    print(f"started   {iso(run.created_time_ms)} UTC    predict_fn {run.predict_fn or '-'}")
    data = f"{dataset['name']} v{dataset['version']}" if dataset else source.get("type")
    print(f"data      {data}, {source.get('rows')} rows    passed {run.passed_count}")
    print("scorers")
    for s in run.scorers:
        judge = f"judge {s.get('judge_model')} prompt {s.get('prompt_hash')}"
        print(f"  {s.get('name')}  {judge if s.get('judge_model') else 'code'}")
    print(f"metrics   {_metrics(run.metrics)}")
    if run.errors:
        print(f"errors    {', '.join(f'{k}={n}' for k, n in sorted(run.errors.items()))}")
    if args.rows:
        print()
        table(
            ["#", "TRACE_ID", "INPUTS", "RESULTS", "PASSED"],
            [
                [
                    str(r.index),
                    r.trace_id or "-",
                    short(r.inputs, 30),
                    short(", ".join(_result_text(x) for x in r.results), 60),
                    "yes" if r.passed else "no",
                ]
                for r in rows[: args.rows]
            ],
        )
    return 0


def _result_text(result: dict[str, Any]) -> str:
    error = result.get("error")
    if error:
        return f"{result.get('name')}=ERROR({error.get('error_code')})"
    return f"{result.get('name')}={short(result.get('value'), 12)}"


def _compare(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        result = compare_runs(store, args.base_run_id, args.candidate_run_id)
    if args.json:
        dump(result.to_dict())
        return 0
    print(f"base       {result.base.run_id}  {result.base.name!r}")
    print(f"candidate  {result.candidate.run_id}  {result.candidate.name!r}")
    print(
        f"rows       {result.paired} paired, {result.only_in_base} only in base, "
        f"{result.only_in_candidate} only in candidate\n"
    )
    table(
        ["METRIC", "BASE", "CANDIDATE", "DELTA"],
        [
            [
                m.name,
                "-" if m.base is None else f"{m.base:.3g}",
                "-" if m.candidate is None else f"{m.candidate:.3g}",
                "-" if m.delta is None else f"{m.delta:+.3g}",
            ]
            for m in result.metrics
        ],
    )
    for title, groups in (("regressed", result.regressed), ("improved", result.improved)):
        for name, changes in groups.items():
            print(f"\n{name}: {len(changes)} {title}")
            for c in changes:
                print(
                    f"  {short(c.inputs, 40)}  {short(c.base.get('value'), 12)} -> "
                    f"{short(c.candidate.get('value'), 12)}  {c.candidate.get('trace_id') or ''}"
                )
    return 0


def _alignment(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        report = compute_alignment(
            store,
            args.judge,
            args.human,
            parse_mapping(args.map, None),
            judge_model=args.judge_model,
            prompt_hash=args.prompt_hash,
            run_id=args.run_id,
            positive=args.positive,
        )
    if args.json:
        dump(report.to_dict())
        return 0

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}%"

    print(f"{report.judge} (judge {report.judge_model}, prompt {report.prompt_hash})")
    print(f"  vs. {report.human} (people)")
    kappa = "-" if report.kappa is None else f"{report.kappa:.3f}"
    print(f"n {report.n}   agreement {pct(report.agreement)}   kappa {kappa}")
    print(
        f"TPR {pct(report.tpr)}   TNR {pct(report.tnr)}   precision {pct(report.precision)}   "
        f"recall {pct(report.recall)}  (positive: {report.positive})"
    )
    if report.labels:
        print()
        table(
            ["HUMAN \\ JUDGE", *report.labels],
            [[h, *(str(report.confusion[h][j]) for j in report.labels)] for h in report.labels],
        )
    if report.skipped:
        print(f"\nleft out: {', '.join(f'{k}={n}' for k, n in sorted(report.skipped.items()))}")
    for d in report.disagreements:
        print(f"\n{d['trace_id']}  judge {d['judge_value']!r}  human {d['human_value']!r}")
        print(f"  judge: {short(d['judge_rationale'] or '', 100)}")
        print(f"  human: {short(d['human_rationale'] or '', 100)}")
    return 0
