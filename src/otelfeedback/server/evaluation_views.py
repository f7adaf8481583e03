"""View models of the Evaluations section (runs, a run, a comparison, alignment), shared by
the HTML pages and their JSON twins and by the REST API. Pure functions of the store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.evaluation import runs
from otelfeedback.evaluation.compare import RunComparison, compare_runs
from otelfeedback.evaluation.judge_alignment import (
    AlignmentReport,
    compute_alignment,
    parse_mapping,
)
from otelfeedback.server.present import shorten
from otelfeedback.store.base import TraceStore

ROWS_PER_PAGE = 50


@dataclass(frozen=True)
class ResultCell:
    """One result as the run page shows it."""

    name: str
    kind: str  # yes | no | number | text | json | error | none
    text: str
    full: str
    rationale: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def result_cell(result: Mapping[str, Any]) -> ResultCell:
    name, rationale = str(result.get("name")), result.get("rationale")
    error = result.get("error")
    if error:
        message = error.get("error_message") or error.get("error_code") or "error"
        return ResultCell(name, "error", str(error.get("error_code")), str(message), rationale)
    value = result.get("value")
    if isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("yes", "no")):
        yes = value is True or (isinstance(value, str) and value.lower() == "yes")
        text = str(value).lower() if isinstance(value, bool) else value
        return ResultCell(name, "yes" if yes else "no", text, text, rationale)
    if value is None:
        return ResultCell(name, "none", "—", "null", rationale)
    if isinstance(value, (int, float)):
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return ResultCell(name, "number", text, text, rationale)
    if isinstance(value, str):
        return ResultCell(name, "text", shorten(value, 60), value, rationale)
    full = json.dumps(value, ensure_ascii=False, indent=2)
    return ResultCell(
        name, "json", shorten(json.dumps(value, ensure_ascii=False), 60), full, rationale
    )


def result_names(run: runs.EvaluationRun, rows: list[runs.RunRow]) -> list[str]:
    """The run's result columns: its scorers' names first, then any other result name."""
    names = [str(s.get("name")) for s in run.scorers]
    for row in rows:
        for result in row.results:
            name = str(result.get("name"))
            if name not in names:
                names.append(name)
    return names


def run_page(
    store: TraceStore, run_id: str, page: int = 1, only_failed: bool = False
) -> dict[str, Any]:
    """The run and one page of its rows (``only_failed``: rows that did not pass)."""
    run = runs.get_run(store, runs.check_run_id(run_id))
    rows = runs.run_rows(store, run.run_id)
    names = result_names(run, rows)
    failed = sum(1 for r in rows if not r.passed)
    shown = [r for r in rows if not r.passed] if only_failed else rows
    pages = max(1, -(-len(shown) // ROWS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * ROWS_PER_PAGE
    cells = []
    for row in shown[start : start + ROWS_PER_PAGE]:
        by_name: dict[str, list[ResultCell]] = {n: [] for n in names}
        for result in row.results:
            by_name[str(result.get("name"))].append(result_cell(result))
        cells.append({"row": row, "cells": by_name})
    return {
        "run": run,
        "names": names,
        "rows": cells,
        "row_total": len(rows),
        "failed": failed,
        "shown_total": len(shown),
        "page": page,
        "pages": pages,
        "only_failed": only_failed,
    }


def run_page_json(model: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": model["run"].to_dict(),
        "page": model["page"],
        "pages": model["pages"],
        "rows": [item["row"].to_dict() for item in model["rows"]],
    }


def comparison(store: TraceStore, base: str | None, candidate: str | None) -> RunComparison:
    if not base or not candidate:
        raise InvalidArgumentError("base", "pick two runs: ?base=RUN_ID&candidate=RUN_ID")
    return compare_runs(store, base, candidate)


def alignment_report(store: TraceStore, params: Mapping[str, Any]) -> AlignmentReport | None:
    """The report for the query's ``judge``/``human``, or None when they are not given."""
    judge, human = params.get("judge"), params.get("human")
    if not judge or not human:
        return None
    return compute_alignment(
        store,
        judge,
        human,
        parse_mapping(list(params.get("map") or []), params.get("mapping")),
        judge_model=params.get("judge_model") or None,
        prompt_hash=params.get("prompt_hash") or None,
        run_id=params.get("run_id") or None,
        positive=params.get("positive") or "yes",
    )
