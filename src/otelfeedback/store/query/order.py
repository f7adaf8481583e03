"""``order_by`` clauses: ``["timestamp_ms DESC", "name"]``."""

from __future__ import annotations

from dataclasses import dataclass

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.store.query.fields import ORDER_KEYS


@dataclass(frozen=True)
class OrderBy:
    column: str
    descending: bool


DEFAULT_ORDER = (OrderBy("start_ms", True),)


def parse_order_by(order_by: list[str] | str | None) -> tuple[OrderBy, ...]:
    """Parse ``order_by`` (keys with an optional ``ASC``/``DESC``; newest first by default).

    Raises:
        InvalidArgumentError: an unknown key or direction.
    """
    if order_by is None:
        return DEFAULT_ORDER
    clauses = [order_by] if isinstance(order_by, str) else list(order_by)
    result = []
    for clause in clauses:
        if not isinstance(clause, str) or not clause.strip():
            raise InvalidArgumentError("order_by", f"expected 'key [ASC|DESC]', got {clause!r}")
        words = clause.split()
        key = words[0].lower().removeprefix("trace.").removeprefix("attributes.")
        if key not in ORDER_KEYS:
            valid = ", ".join(sorted(ORDER_KEYS))
            raise InvalidArgumentError(
                "order_by", f"unknown key {words[0]!r}; expected one of: {valid}"
            )
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if len(words) > 2 or direction not in ("ASC", "DESC"):
            raise InvalidArgumentError(
                "order_by", f"{clause!r}: expected 'key', 'key ASC' or 'key DESC'"
            )
        result.append(OrderBy(ORDER_KEYS[key], direction == "DESC"))
    return tuple(result) or DEFAULT_ORDER
