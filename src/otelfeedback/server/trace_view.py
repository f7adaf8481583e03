"""The trace page's model beyond the span tree: where the trace sits in the list it was
opened from (previous / next, "← Traces"), the selected span's model-call header, cost,
retrieved documents, and an unknown ``?span=``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otelfeedback.errors import OtelFeedbackError
from otelfeedback.server import content, present, span_facts
from otelfeedback.server.context import ServerContext
from otelfeedback.server.list_state import ListState
from otelfeedback.server.traces_table import trace_condition
from otelfeedback.store.entities import Trace

#: How far around its recorded position a trace is looked for when the list has moved.
_SEARCH_WINDOW = 25


@dataclass
class Neighbors:
    """The list around this trace: its 0-based ``index``, the total, and the two links."""

    back_url: str
    index: int | None = None
    total: int | None = None
    prev_url: str | None = None
    next_url: str | None = None


def _ids(ctx: ServerContext, state: ListState, offset: int, size: int) -> list[str]:
    store_filter = state.store_filter()
    token = ctx.store.page_token(offset, store_filter, state.order_by, state.run)
    page = ctx.store.search_traces(store_filter, size, state.order_by, token, state.run, False)
    return [t.info.trace_id for t in page]


def neighbors(
    ctx: ServerContext, trace_id: str, list_param: str | None, index_param: str | None
) -> Neighbors:
    """Previous and next trace in the list the page was opened from (same filter, sort and
    time range), found from the recorded position; the back link keeps the list's page."""
    state = ListState.from_list_param(list_param) or ListState.parse({})
    result = Neighbors(back_url=state.url())
    if index_param is None or not index_param.isdigit() or len(index_param) > 12:
        return result
    index = int(index_param)
    if state.search.error:
        return result
    try:
        start = max(0, index - 1)
        ids = _ids(ctx, state, start, 3)
        if trace_id not in ids:  # the list moved: look around the old position
            start = max(0, index - _SEARCH_WINDOW)
            ids = _ids(ctx, state, start, 2 * _SEARCH_WINDOW + 1)
        if trace_id not in ids:
            return result
    except OtelFeedbackError:  # a list state that no longer parses: no neighbours
        return result
    here = ids.index(trace_id)
    index = start + here
    page = index // state.size + 1
    result.back_url = state.url(page=page) + f"#row-{trace_id}"
    result.index = index
    if here > 0:
        result.prev_url = state.trace_url(ids[here - 1], index - 1)
    if here + 1 < len(ids):
        result.next_url = state.trace_url(ids[here + 1], index + 1)
    return result


def page_model(
    ctx: ServerContext,
    trace: Trace,
    span_id: str | None,
    list_param: str | None = None,
    index_param: str | None = None,
) -> dict[str, Any]:
    """What the trace page adds to the tree and the assessments (see ``pages.trace_model``)."""
    rows = present.span_tree(trace)
    known = {r.span.span_id for r in rows}
    missing_span = span_id if span_id and span_id not in known else None
    state = ListState.from_list_param(list_param) or ListState.parse({})
    session, user = trace.info.session_id, trace.info.user_id
    return {
        "nav": neighbors(ctx, trace.info.trace_id, list_param, index_param),
        "list_param": list_param or "",
        "index_param": index_param or "",
        "missing_span": missing_span,
        "trace_cost": span_facts.trace_cost(trace, ctx.prices),
        "session_url": state.filter_url(trace_condition("session_id", session))
        if session
        else None,
        "user_url": state.filter_url(trace_condition("user_id", user)) if user else None,
    }


def span_model(ctx: ServerContext, span: Any) -> dict[str, Any]:
    """The selected span's header facts and retrieved documents."""
    return {
        "model_call": span_facts.model_call(span, ctx.prices),
        "documents": content.documents(span.outputs, span.attributes)
        if span.span_type in ("RETRIEVER", "RERANKER")
        else None,
    }
