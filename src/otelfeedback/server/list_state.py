"""The traces list's state in the URL: search text, time range, sort, page, page size.

One ``ListState`` is read from ``/traces?...``, carried to a trace page (``list=``, so
"← Traces" and previous / next trace keep the filter, sort and page) and written back into
every link. The search box takes the filter grammar or plain words (``server.search_box``);
the time range is added to the filter as ``trace.timestamp_ms`` conditions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from otelfeedback.server._http import HTTPError
from otelfeedback.server.search_box import Search, read_search

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_PAGE_NUMBER = 10**9
#: Sort keys of the table -> ``order_by`` keys of the store.
SORTABLE = {
    "time": "timestamp_ms",
    "latency": "execution_time_ms",
    "tokens": "total_tokens",
    "status": "status",
    "name": "name",
}
#: Time ranges the page offers: key -> (label, milliseconds back from now).
RANGES: dict[str, tuple[str, int | None]] = {
    "all": ("All time", None),
    "1h": ("Last hour", 3_600_000),
    "24h": ("Last 24 hours", 86_400_000),
    "7d": ("Last 7 days", 7 * 86_400_000),
    "30d": ("Last 30 days", 30 * 86_400_000),
}
#: The query parameters that make up a list state (``list=`` carries them to a trace);
#: ``filter=`` is also read (the grammar only, as in the API) and written back as ``q=``.
KEYS = ("q", "range", "sort", "dir", "page", "max_results", "run_id")


def _bad(argument: str, message: str) -> HTTPError:
    return HTTPError(400, "INVALID_ARGUMENT", f"{argument}: {message}", argument)


def _positive(raw: str | None, argument: str, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise _bad(argument, f"expected a whole number, got {raw[:40]!r}")
    value = int(raw)
    if not 1 <= value <= maximum:
        raise _bad(argument, f"expected 1 to {maximum}, got {value}")
    return value


@dataclass(frozen=True)
class ListState:
    """What the traces table shows. ``now_ms`` fixes "now" for a relative time range."""

    q: str = ""
    range: str = "all"
    sort: str = "time"
    dir: str = "desc"
    page: int = 1
    size: int = PAGE_SIZE
    run_id: str = ""  # only the traces of this run (an evaluation run, a labeling session)
    grammar_only: bool = False  # ``filter=`` (the grammar) rather than ``q=`` (the box)
    now_ms: int = 0

    @classmethod
    def parse(cls, params: Mapping[str, str], now_ms: int | None = None) -> ListState:
        """Read the state from query parameters.

        Raises:
            HTTPError: 400 for an unknown sort, direction or range, or a bad page or size.
        """
        sort = params.get("sort") or "time"
        if sort not in SORTABLE:
            raise _bad("sort", f"expected one of {', '.join(SORTABLE)}, got {sort[:40]!r}")
        direction = (params.get("dir") or "desc").lower()
        if direction not in ("asc", "desc"):
            raise _bad("dir", f"expected asc or desc, got {direction[:40]!r}")
        span = params.get("range") or "all"
        if span not in RANGES:
            raise _bad("range", f"expected one of {', '.join(RANGES)}, got {span[:40]!r}")
        q = params.get("q")
        grammar_only = q is None and params.get("filter") is not None
        if q is None:  # ``filter=``: the grammar only, as in the API
            q = params.get("filter", "")
        return cls(
            q=q.strip(),
            range=span,
            sort=sort,
            dir=direction,
            page=_positive(params.get("page"), "page", 1, MAX_PAGE_NUMBER),
            size=_positive(params.get("max_results"), "max_results", PAGE_SIZE, MAX_PAGE_SIZE),
            run_id=(params.get("run_id") or "").strip(),
            grammar_only=grammar_only,
            now_ms=now_ms if now_ms is not None else int(time.time() * 1000),
        )

    @classmethod
    def from_list_param(cls, raw: str | None, now_ms: int | None = None) -> ListState | None:
        """The state a trace page was opened from (its ``list=`` parameter), or None when
        absent or not a valid state."""
        if raw is None:
            return None
        try:
            return cls.parse(dict(parse_qsl(raw, keep_blank_values=True)), now_ms)
        except HTTPError:
            return None

    # -- what to ask the store -------------------------------------------------------------
    @property
    def search(self) -> Search:
        return read_search(self.q, self.grammar_only)

    @property
    def since_ms(self) -> int | None:
        back = RANGES[self.range][1]
        return None if back is None else self.now_ms - back

    def range_condition(self) -> str | None:
        since = self.since_ms
        return None if since is None else f"trace.timestamp_ms >= {since}"

    def store_filter(self) -> str | None:
        """The filter for the store: the search box's filter AND the time range."""
        parts = [p for p in (self.search.filter, self.range_condition()) if p]
        if len(parts) == 2:
            return f"({parts[0]}) AND {parts[1]}"
        return parts[0] if parts else None

    @property
    def run(self) -> str | None:
        """The ``run_id`` argument of the store's search (None for every trace)."""
        return self.run_id or None

    @property
    def order_by(self) -> list[str]:
        return [f"{SORTABLE[self.sort]} {self.dir.upper()}"]

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    # -- links --------------------------------------------------------------------------------
    def params(self, **changes: Any) -> dict[str, str]:
        """The non-default parameters of this state (with ``changes``), for a URL."""
        state = replace(self, **changes) if changes else self
        values = {
            "q": state.q,
            "range": "" if state.range == "all" else state.range,
            "sort": "" if state.sort == "time" else state.sort,
            "dir": "" if state.dir == "desc" else state.dir,
            "page": "" if state.page == 1 else str(state.page),
            "max_results": "" if state.size == PAGE_SIZE else str(state.size),
            "run_id": state.run_id,
        }
        return {k: v for k, v in values.items() if v}

    def query(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))

    def url(self, **changes: Any) -> str:
        query = self.query(**changes)
        return "/traces" + (f"?{query}" if query else "")

    def sort_url(self, key: str) -> str:
        """Sort by ``key``: descending first, reversed when already sorted by it."""
        direction = ("asc" if self.dir == "desc" else "desc") if self.sort == key else "desc"
        return self.url(sort=key, dir=direction, page=1)

    def filter_url(self, condition: str) -> str:
        """The list narrowed by ``condition`` (click-to-filter): the current search's filter
        AND the condition, back on page 1."""
        current = self.search.filter if not self.search.error else None
        if current and condition not in current:
            text = f"{current} AND {condition}"
        else:
            text = current or condition
        return self.url(q=text, page=1)

    def trace_url(self, trace_id: str, index: int | None = None) -> str:
        """A trace page opened from this list; ``index`` is its position in the list."""
        params: dict[str, str] = {}
        query = self.query()
        if query:
            params["list"] = query
        if index is not None:
            params["i"] = str(index)
        return f"/traces/{trace_id}" + (f"?{urlencode(params)}" if params else "")
