"""``search_traces`` arguments, checked and planned once for every SQL-backed store: the
filter tree, the order, the page (offset and size) and the token of the next page."""

from __future__ import annotations

from dataclasses import dataclass

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.store.paging import decode_token, encode_token, query_fingerprint
from otelfeedback.store.query.fields import NULLABLE_ORDER_COLUMNS
from otelfeedback.store.query.order import OrderBy, parse_order_by
from otelfeedback.store.query.parser import Node, parse_filter


@dataclass(frozen=True)
class SearchPlan:
    """What a store needs to run one page of a search.

    Attributes:
        tree: the parsed filter (None: every trace).
        orders: the requested order (newest first by default).
        offset: how many traces earlier pages returned.
        max_results: the page size (None: everything).
        run_id: only traces of this evaluation run.
        fingerprint: identifies the query in page tokens.
    """

    tree: Node | None
    orders: tuple[OrderBy, ...]
    offset: int
    max_results: int | None
    run_id: str | None
    fingerprint: str

    def order_sql(self, *, nulls: bool = False) -> str:
        """``ORDER BY`` terms over ``t`` (traces), the trace id breaking ties. With
        ``nulls``, NULLs sort first ascending and last descending, as SQLite sorts them (said
        only of columns that may be NULL: PostgreSQL then still walks an index in order)."""
        terms = []
        for order in self.orders:
            direction = "DESC" if order.descending else "ASC"
            if nulls and order.column in NULLABLE_ORDER_COLUMNS:
                direction += " NULLS LAST" if order.descending else " NULLS FIRST"
            terms.append(f"t.{order.column} {direction}")
        terms.append("t.trace_id DESC" if self.orders[0].descending else "t.trace_id ASC")
        return ", ".join(terms)

    @property
    def fetch(self) -> int | None:
        """Rows to fetch: one more than the page, to know whether another page follows."""
        return None if self.max_results is None else self.max_results + 1

    def next_token(self, fetched: int) -> str | None:
        """The next page's token, given how many rows the query returned (``fetch`` at most)."""
        if self.max_results is None or fetched <= self.max_results:
            return None
        return encode_token(self.offset + self.max_results, self.fingerprint)


def plan_search(
    filter_string: str | None,
    max_results: int | None,
    order_by: list[str] | str | None,
    page_token: str | None,
    run_id: str | None,
) -> SearchPlan:
    """Check ``search_traces``'s arguments and plan the page.

    Raises:
        InvalidArgumentError: an argument is malformed (naming it).
        FilterSyntaxError: the filter does not parse.
    """
    if filter_string is not None and not isinstance(filter_string, str):
        raise InvalidArgumentError("filter_string", "expected a string or None")
    if max_results is not None and (
        isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1
    ):
        raise InvalidArgumentError(
            "max_results", f"expected a positive int or None, got {max_results!r}"
        )
    if run_id is not None and (not isinstance(run_id, str) or not run_id):
        raise InvalidArgumentError("run_id", "expected a non-empty string or None")
    orders = parse_order_by(order_by)
    tree = parse_filter(filter_string or "")
    fingerprint = _fingerprint(filter_string, orders, run_id)
    offset = decode_token(page_token, fingerprint)
    return SearchPlan(tree, orders, offset, max_results, run_id, fingerprint)


def page_token(
    offset: int,
    filter_string: str | None = None,
    order_by: list[str] | str | None = None,
    run_id: str | None = None,
) -> str | None:
    """The ``page_token`` of the page that starts at ``offset`` (0-based) of a search: how a
    UI links any page (the previous one too), not only the next. None for 0.

    Raises:
        InvalidArgumentError: ``offset`` is negative or ``order_by`` malformed.
    """
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidArgumentError("offset", f"expected an int >= 0, got {offset!r}")
    if offset == 0:
        return None
    return encode_token(offset, _fingerprint(filter_string, parse_order_by(order_by), run_id))


def _fingerprint(
    filter_string: str | None, orders: tuple[OrderBy, ...] | list[OrderBy], run_id: str | None
) -> str:
    """What a page token is tied to: the filter, the order and the run."""
    return query_fingerprint(
        filter_string, [o.column for o in orders], [o.descending for o in orders], run_id
    )
