"""The traces table: its columns (one list), the chooser, click-to-filter conditions, and
the page model (rows, count, summary strip, paging).

Columns come from ``BASE_COLUMNS`` with one column per assessment name inserted after the
trace name. Each column names the template macro that draws its cells
(``_table.html``), so a new column is one entry here and one macro there. Hidden columns
are remembered per browser in a cookie (no account, no script needed).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from otelfeedback.errors import FilterSyntaxError, InvalidArgumentError
from otelfeedback.server import present, selection, summary_view
from otelfeedback.server.context import ServerContext
from otelfeedback.server.list_state import RANGES, ListState
from otelfeedback.server.search_box import suggestions
from otelfeedback.store.entities import Trace

COLUMNS_COOKIE = "otelfeedback_hidden_columns"
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TableColumn:
    """A column: ``key`` (stable, in the cookie), header ``label``, the ``cell`` macro, the
    ``sort`` key (``ListState.SORTABLE``) if sortable, and whether it shows by default."""

    key: str
    label: str
    cell: str
    sort: str | None = None
    numeric: bool = False
    default: bool = True
    hideable: bool = True
    kind: str | None = None  # "feedback" | "expectation" for assessment columns
    name: str | None = None  # the assessment name

    @property
    def css(self) -> str:
        classes = [f"col-{self.cell}"]
        if self.numeric:
            classes.append("num")
        if self.kind:
            classes.append(f"assessment-col {self.kind}")
        return " ".join(classes)


#: The table's columns, in order; assessment columns go after ``name``.
BASE_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("name", "Trace", "name", sort="name", hideable=False),
    TableColumn("request", "Request", "request"),
    TableColumn("response", "Response", "response"),
    TableColumn("error", "Error", "error"),
    TableColumn("latency", "Latency", "latency", sort="latency", numeric=True),
    TableColumn("tokens", "Tokens", "tokens", sort="tokens", numeric=True),
    TableColumn("time", "Time (UTC)", "time", sort="time"),
    TableColumn("status", "Status", "status", sort="status", default=False),
    TableColumn("session", "Session", "session", default=False),
    TableColumn("user", "User", "user", default=False),
    TableColumn("tags", "Tags", "tags"),
)


def all_columns(names: dict[str, list[str]]) -> list[TableColumn]:
    """Every column the table can show: the base ones with one per assessment name
    (feedback first, then expectations) right after the trace name."""
    assessments = [
        TableColumn(f"{kind}.{name}", name, "assessment", kind=kind, name=name, numeric=False)
        for kind in ("feedback", "expectation")
        for name in names.get(kind, [])
    ]
    return [BASE_COLUMNS[0], *assessments, *BASE_COLUMNS[1:]]


def hidden_columns(request: Request) -> set[str] | None:
    """The keys hidden in this browser, or None when it never chose (defaults apply)."""
    raw = request.cookies.get(COLUMNS_COOKIE)
    if raw is None:
        return None
    return {unquote(k) for k in raw.split(",") if k}


def visible_columns(columns: list[TableColumn], hidden: set[str] | None) -> list[TableColumn]:
    if hidden is None:
        return [c for c in columns if c.default]
    return [c for c in columns if not c.hideable or c.key not in hidden]


def remember_columns(response: Response, columns: list[TableColumn], shown: set[str]) -> None:
    """Keep the chooser's answer in this browser (a year): the hidden keys, so a new
    assessment name shows up by default."""
    hidden = [quote(c.key, safe="") for c in columns if c.hideable and c.key not in shown]
    response.set_cookie(
        COLUMNS_COOKIE, ",".join(hidden)[:3800], max_age=365 * 24 * 3600, samesite="strict"
    )


# -- click-to-filter ----------------------------------------------------------------------
def string_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def value_literal(value: Any) -> str | None:
    """``value`` as a filter literal, or None when the grammar cannot compare it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 2**63 else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return string_literal(value)
    return None


def field_key(key: str) -> str:
    """A tag, metadata or assessment key as written in a filter (backticks if needed)."""
    if _PLAIN_KEY.fullmatch(key):
        return key
    return "`" + key.replace("`", "") + "`"


def assessment_condition(kind: str, name: str, value: Any) -> str | None:
    literal = value_literal(value)
    return None if literal is None else f"{kind}.{field_key(name)} = {literal}"


def tag_condition(key: str, value: str) -> str:
    return f"tags.{field_key(key)} = {string_literal(value)}"


def trace_condition(field: str, value: str) -> str:
    return f"trace.{field} = {string_literal(value)}"


# -- the page -----------------------------------------------------------------------------
def table_model(ctx: ServerContext, request: Request, state: ListState) -> dict[str, Any]:
    """Everything the traces page and its JSON twin show."""
    search = state.search
    names = present.store_assessment_names(ctx.store)
    columns = all_columns(names)
    shown = visible_columns(columns, hidden_columns(request))
    error: str | None = search.error
    error_argument = "filter" if error else None
    traces: list[Trace] = []
    token: str | None = None
    stats = None
    store_filter = state.store_filter()
    raw_token = request.query_params.get("page_token") or None
    if error is None:
        try:
            page_token = raw_token or ctx.store.page_token(
                state.offset, store_filter, state.order_by, state.run
            )
            page = ctx.store.search_traces(
                store_filter, state.size, state.order_by, page_token, state.run, False
            )
            traces, token = list(page), page.token
            since = state.since_ms
            stats = ctx.store.trace_stats(
                store_filter,
                start_ms=since,
                end_ms=state.now_ms if since else None,
                run_id=state.run,
            )
        except FilterSyntaxError as exc:
            error, error_argument = str(exc), "filter"
        except InvalidArgumentError as exc:
            if exc.argument != "page_token":
                raise
            error, error_argument = str(exc), "page_token"
    errors = ctx.store.first_errors([t.info.trace_id for t in traces]) if traces else {}
    total = stats.count if stats is not None else None
    sampled = bool(stats is not None and stats.sampled)
    pages = max(1, -(-total // state.size)) if total and not sampled else None
    return {
        "state": state,
        "search": search,
        "filter_error": error,
        "error_argument": error_argument,
        "traces": traces,
        "errors": errors,
        "columns": shown,
        "all_columns": columns,
        "assessment_columns": [c for c in shown if c.kind],
        "next_page_token": token,
        "total": total,
        "sampled": sampled,
        "pages": pages,
        "stats": stats,
        "summary": summary_view.strip(stats) if stats is not None and stats.count else None,
        "ranges": [(key, label) for key, (label, _) in RANGES.items()],
        "field_suggestions": json.dumps(suggestions(names), ensure_ascii=False),
        "store_path": str(ctx.store.path),
        "selection_actions": selection.actions(ctx),
        "index": ctx.store.index_status(),
    }


def table_json(model: dict[str, Any]) -> dict[str, Any]:
    """The JSON twin: the API's page shape (``traces[].info``, ``next_page_token``) plus
    what the page adds (the search, columns, total and summary)."""
    stats = model["stats"]
    return {
        "traces": [{"info": t.info.to_dict()} for t in model["traces"]],
        "next_page_token": model["next_page_token"],
        "filter": model["search"].filter,
        "search": {"text": model["search"].text, "mode": model["search"].mode},
        "filter_error": model["filter_error"],
        "columns": [
            {"key": c.key, "label": c.label, "kind": c.kind, "name": c.name}
            for c in model["all_columns"]
        ],
        "total": model["total"],
        "total_is_lower_bound": model["sampled"],
        "page": model["state"].page,
        "summary": stats.to_dict() if stats is not None else None,
        "index": model["index"].to_dict(),
    }
