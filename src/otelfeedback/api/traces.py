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
from otelfeedback.store.query import parse_filter


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
    labeling_session: Any = None,
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
    labeling_session: Any = None,
) -> Any: ...


def search_traces(
    filter_string: str | None = None,
    max_results: int | None = 100,
    order_by: list[str] | str | None = None,
    run_id: str | None = None,
    page_token: str | None = None,
    return_type: Literal["list", "pandas"] = "list",
    include_spans: bool = True,
    labeling_session: Any = None,
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
        labeling_session: only the traces of this labeling session (a ``LabelingSession``,
            or its name or id); the same as the filter ``labeling_session.name = '...'``.

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
    if labeling_session is not None:
        filter_string = _with_session(filter_string, labeling_session)
    page = read_store().search_traces(
        filter_string, max_results, order_by, page_token, run_id, include_spans
    )
    if return_type == "pandas":
        from otelfeedback.store.frames import traces_to_frame

        return traces_to_frame(page)
    return page


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _with_session(filter_string: str | None, labeling_session: Any) -> str:
    """``filter_string`` AND membership of the session (checked on its own first, so a
    syntax error points into the caller's filter)."""
    if filter_string is not None and not isinstance(filter_string, str):
        raise InvalidArgumentError("filter_string", "expected a string or None")
    session_id = getattr(labeling_session, "labeling_session_id", None)
    if isinstance(session_id, str):
        clause = f"labeling_session.id = {_quote(session_id)}"
    elif isinstance(labeling_session, str) and labeling_session:
        quoted = _quote(labeling_session)
        clause = f"(labeling_session.id = {quoted} OR labeling_session.name = {quoted})"
    else:
        raise InvalidArgumentError(
            "labeling_session",
            f"expected a LabelingSession or its name or id, got {labeling_session!r:.80}",
        )
    if filter_string is None or parse_filter(filter_string) is None:
        return clause
    return f"({filter_string}) AND {clause}"
