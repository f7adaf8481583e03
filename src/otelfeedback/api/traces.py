"""The public read functions (``get_trace``, ``search_traces``) over the active store.

Spans this process finished are flushed to the store first, so a trace is readable right
after the traced call. ``otelfeedback`` re-exports them.
"""

from __future__ import annotations

from typing import Any, Literal, overload

from otelfeedback.api._store import read_store
from otelfeedback.assessments import validation as v
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.store.entities import Trace
from otelfeedback.store.paging import PagedList


# -- reads --------------------------------------------------------------------------------
def get_trace(trace_id: str) -> Trace:
    """The trace with its spans and assessments, from the active store.

    Spans finished in this process are flushed first, so a trace is readable right after
    the traced call returns.

    Raises:
        InvalidArgumentError: ``trace_id`` is not a 32-hex trace id.
        NotFoundError: no such trace in the store.
    """
    trace_id = v.check_trace_id(trace_id)
    return read_store().get_trace(trace_id)


@overload
def search_traces(
    filter_string: str | None = None,
    max_results: int | None = 100,
    order_by: list[str] | str | None = None,
    run_id: str | None = None,
    page_token: str | None = None,
    return_type: Literal["list"] = "list",
    include_spans: bool = True,
) -> PagedList[Trace]: ...


@overload
def search_traces(
    filter_string: str | None = None,
    max_results: int | None = 100,
    order_by: list[str] | str | None = None,
    run_id: str | None = None,
    page_token: str | None = None,
    *,
    return_type: Literal["pandas"],
    include_spans: bool = True,
) -> Any: ...


def search_traces(
    filter_string: str | None = None,
    max_results: int | None = 100,
    order_by: list[str] | str | None = None,
    run_id: str | None = None,
    page_token: str | None = None,
    return_type: Literal["list", "pandas"] = "list",
    include_spans: bool = True,
) -> PagedList[Trace] | Any:
    """Search the active store's traces; newest first unless ``order_by`` says otherwise.

    Example::

        search_traces("feedback.user_feedback = false AND span.type = 'RETRIEVER'")

    Args:
        filter_string: a filter in the search language (``docs/search.md``).
        max_results: page size (None: everything).
        order_by: e.g. ``["execution_time_ms DESC"]``.
        run_id: only traces tied to this run (metadata ``otelfeedback.run_id``).
        page_token: the ``.token`` of the previous page.
        return_type: ``"list"`` (a ``PagedList`` of ``Trace``: a list with ``.token``) or
            ``"pandas"`` (a DataFrame, one row per trace).
        include_spans: load the spans too (False: info and assessments only).

    Raises:
        FilterSyntaxError: the filter does not parse (the message points at the token).
        InvalidArgumentError: a bad ``max_results``, ``order_by``, ``page_token`` or
            ``return_type``.
        MissingExtraError: ``return_type="pandas"`` without pandas installed.
    """
    if return_type not in ("list", "pandas"):
        raise InvalidArgumentError(
            "return_type", f"expected 'list' or 'pandas', got {return_type!r}"
        )
    if return_type == "pandas":
        from otelfeedback.store.frames import require_pandas

        require_pandas()
    page = read_store().search_traces(
        filter_string, max_results, order_by, page_token, run_id, include_spans
    )
    if return_type == "pandas":
        from otelfeedback.store.frames import traces_to_frame

        return traces_to_frame(page)
    return page
