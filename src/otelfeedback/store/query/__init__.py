"""The search filter language, shared by every store: a parser and a SQL compiler.

>>> from otelfeedback.store.query import parse_filter
>>> parse_filter("feedback.user_feedback = false AND span.type = 'RETRIEVER'") is not None
True
"""

from otelfeedback.store.query.compiler import compile_filter
from otelfeedback.store.query.dialect import Dialect, PostgresDialect, SQLiteDialect
from otelfeedback.store.query.order import OrderBy, parse_order_by
from otelfeedback.store.query.parser import parse_filter

__all__ = [
    "Dialect",
    "OrderBy",
    "PostgresDialect",
    "SQLiteDialect",
    "compile_filter",
    "parse_filter",
    "parse_order_by",
]
