"""Parse a filter string into a tree, checking every field, operator and value.

Grammar (keywords are case-insensitive)::

    filter     := or_expr EOF
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := unary ("AND" unary)*
    unary      := "NOT" unary | "(" or_expr ")" | comparison
    comparison := field op literal
                | field ["NOT"] ("LIKE" | "ILIKE") string
                | field ["NOT"] "IN" "(" literal ("," literal)* ")"
                | field "IS" ["NOT"] "NULL"
    literal    := string | number | "TRUE" | "FALSE"
    field      := [prefix "."] key      (backticks quote a key: tags.`my.key`)

Limits, so that no filter can exhaust the parser, the compiler or the database (each is a
``FilterSyntaxError``): at most ``MAX_FILTER_LENGTH`` characters, ``MAX_NESTING`` nested
parentheses and NOTs together as written, ``MAX_DEPTH`` levels of alternating
``AND``/``OR``/``NOT`` groups once parsed, ``MAX_CONDITIONS`` comparisons and ``MAX_VALUES``
values in all. Numbers are 64-bit integers or finite doubles (see ``lexer``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from otelfeedback.errors import FilterSyntaxError
from otelfeedback.store.query import fields as f
from otelfeedback.store.query.lexer import Token, tokenize

#: Longest filter accepted, in characters.
MAX_FILTER_LENGTH = 100_000
#: Deepest nesting of parentheses and NOTs as written (each counts one level).
MAX_NESTING = 100
#: Deepest tree once parsed: levels of alternating AND, OR and NOT groups (redundant
#: parentheses, a group of the same operator and NOT NOT do not add one). SQLite's parser
#: takes about 30 such levels; this leaves room for the SQL the compiler wraps around them.
MAX_DEPTH = 20
#: Most comparisons in one filter.
MAX_CONDITIONS = 1_000
#: Most values in one filter, IN lists included (each is one SQL parameter).
MAX_VALUES = 10_000


@dataclass(frozen=True)
class Literal:
    kind: str  # "string" | "number" | "bool"
    value: str | int | float | bool
    position: int


@dataclass(frozen=True)
class Field:
    """``prefix`` is ``trace``, ``tags``, ``metadata``, ``span``, ``span_attr``, ``feedback``
    or ``expectation``; ``key`` the canonical key (a trace/span field name, a tag key, an
    attribute key or an assessment name)."""

    prefix: str
    key: str
    position: int


@dataclass(frozen=True)
class Comparison:
    field: Field
    op: str  # "=", "!=", "<", ..., "LIKE", "NOT LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", ...
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # "AND" | "OR"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Comparison | BoolOp | Not


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.nesting = 0
        self.depths: dict[int, int] = {}  # id(node) -> levels of the tree under it
        self.keep: list[Node] = []  # keeps those ids alive (unique) while parsing
        self.conditions = 0
        self.values = 0

    def error(self, token: Token, message: str) -> FilterSyntaxError:
        return FilterSyntaxError(self.source, token.position, message)

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.token.kind == "keyword" and self.token.text in words

    def describe(self, token: Token) -> str:
        return "end of filter" if token.kind == "eof" else repr(token.text)

    def parse(self) -> Node:
        node = self.or_expr()
        if self.token.kind != "eof":
            if self.token.kind == ")":
                raise self.error(self.token, "unbalanced ')'")
            raise self.error(
                self.token, f"expected AND, OR or end of filter, found {self.describe(self.token)}"
            )
        return node

    def or_expr(self) -> Node:
        return self.bool_op("OR", self.and_expr)

    def and_expr(self) -> Node:
        return self.bool_op("AND", self.unary)

    def bool_op(self, op: str, operand: Callable[[], Node]) -> Node:
        """Operands joined by ``op``; a parenthesised group of the same operator is spliced
        in (``(a OR b) OR c`` is one OR of three), which keeps the tree shallow."""
        first = self.token
        items: list[Node] = []
        while True:
            item = operand()
            if isinstance(item, BoolOp) and item.op == op:
                items.extend(item.items)
            else:
                items.append(item)
            if not self.at_keyword(op):
                break
            self.take()
        if len(items) == 1:
            return items[0]
        return self.checked(BoolOp(op, tuple(items)), first)

    def unary(self) -> Node:
        if self.at_keyword("NOT"):
            with self.nested():
                keyword = self.take()
                item = self.unary()
                # NOT NOT x is x (also under SQL's three-valued logic)
                return item.item if isinstance(item, Not) else self.checked(Not(item), keyword)
        if self.token.kind == "(":
            with self.nested():
                opening = self.take()
                node = self.or_expr()
                if self.token.kind != ")":
                    if self.token.kind == "eof":
                        raise self.error(opening, "unbalanced '(': no matching ')'")
                    raise self.error(self.token, f"expected ')', found {self.describe(self.token)}")
                self.take()
                return node
        return self.comparison()

    @contextmanager
    def nested(self) -> Iterator[None]:
        """One more level of parentheses or NOT, refused beyond ``MAX_NESTING``."""
        if self.nesting >= MAX_NESTING:
            raise self.error(
                self.token, f"nested too deeply: at most {MAX_NESTING} parentheses and NOTs"
            )
        self.nesting += 1
        try:
            yield
        finally:
            self.nesting -= 1

    def checked(self, node: BoolOp | Not, token: Token) -> Node:
        """``node``, refused when the tree under it is deeper than ``MAX_DEPTH`` levels."""
        children = node.items if isinstance(node, BoolOp) else (node.item,)
        depth = 1 + max(self.depths.get(id(c), 1) for c in children)
        if depth > MAX_DEPTH:
            raise self.error(
                token,
                f"nested too deeply: at most {MAX_DEPTH} levels of alternating AND, OR and "
                "NOT groups",
            )
        self.depths[id(node)] = depth
        self.keep.append(node)
        return node

    def comparison(self) -> Node:
        token = self.take()
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise self.error(token, f"too many conditions: at most {MAX_CONDITIONS}")
        if token.kind != "ident":
            raise self.error(token, f"expected a field name, found {self.describe(token)}")
        field = self.field(token)
        op_token = self.token
        op = self.operator()
        allowed = self.operators(field)
        if op not in allowed:
            raise self.error(
                op_token,
                f"operator {op} is not supported for {token.text}; use one of: "
                + ", ".join(sorted(allowed)),
            )
        if op in ("IS NULL", "IS NOT NULL"):
            return Comparison(field, op, ())
        values = self.literal_list() if op in ("IN", "NOT IN") else (self.literal(),)
        for value in values:
            self.check_value(field, op, value, token.text)
        return Comparison(field, op, values)

    def operator(self) -> str:
        token = self.take()
        if token.kind == "op":
            return token.text
        if token.kind == "keyword":
            if token.text in ("LIKE", "ILIKE", "IN"):
                return token.text
            if token.text == "NOT" and self.at_keyword("LIKE", "ILIKE", "IN"):
                return "NOT " + self.take().text
            if token.text == "IS":
                if self.at_keyword("NOT"):
                    self.take()
                    if not self.at_keyword("NULL"):
                        raise self.error(self.token, "expected NULL after IS NOT")
                    self.take()
                    return "IS NOT NULL"
                if not self.at_keyword("NULL"):
                    raise self.error(self.token, "expected NULL or NOT NULL after IS")
                self.take()
                return "IS NULL"
        raise self.error(
            token,
            "expected a comparison operator (= != < <= > >= LIKE ILIKE IN NOT IN IS NULL), "
            f"found {self.describe(token)}",
        )

    def literal(self) -> Literal:
        token = self.take()
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.error(token, f"too many values: at most {MAX_VALUES} in one filter")
        if token.kind == "string":
            return Literal("string", str(token.value), token.position)
        if token.kind == "number":
            assert isinstance(token.value, (int, float))
            return Literal("number", token.value, token.position)
        if token.kind == "keyword" and token.text in ("TRUE", "FALSE"):
            return Literal("bool", token.text == "TRUE", token.position)
        hint = " (quote strings: 'text')" if token.kind == "ident" else ""
        raise self.error(
            token,
            f"expected a value (string, number, true or false){hint}, found {self.describe(token)}",
        )

    def literal_list(self) -> tuple[Literal, ...]:
        if self.token.kind != "(":
            raise self.error(
                self.token, f"expected '(' after IN, found {self.describe(self.token)}"
            )
        self.take()
        values = [self.literal()]
        while self.token.kind == ",":
            self.take()
            values.append(self.literal())
        if self.token.kind != ")":
            raise self.error(self.token, f"expected ',' or ')', found {self.describe(self.token)}")
        self.take()
        return tuple(values)

    def field(self, token: Token) -> Field:
        parts = token.parts
        rest: tuple[str, ...]
        if len(parts) == 1:
            prefix, rest = "trace", parts
        else:
            raw_prefix = parts[0].lower()
            if raw_prefix not in f.PREFIXES:
                valid = (
                    "trace., tags., metadata., span., feedback., expectation., labeling_session."
                )
                raise self.error(
                    token, f"unknown field prefix {parts[0]!r}; expected one of: {valid}"
                )
            prefix, rest = f.PREFIXES[raw_prefix], parts[1:]
        key = ".".join(rest)
        if prefix == "trace":
            name = f.TRACE_ALIASES.get(key.lower(), key.lower())
            if name not in f.TRACE_FIELDS:
                valid = ", ".join(sorted(f.TRACE_FIELDS))
                raise self.error(token, f"unknown trace field {key!r}; expected one of: {valid}")
            return Field("trace", name, token.position)
        if prefix == "span":
            first = rest[0].lower()
            if first == "attributes" and len(rest) > 1:
                return Field("span_attr", ".".join(rest[1:]), token.position)
            if first in f.SPAN_FIELDS and len(rest) == 1:
                return Field("span", first, token.position)
            valid = ", ".join([*sorted(f.SPAN_FIELDS), "attributes.<key>"])
            raise self.error(token, f"unknown span field {key!r}; expected one of: {valid}")
        if not key:
            raise self.error(token, f"{parts[0]}. needs a key")
        if prefix in f.RECORD_SETS:
            keys = f.RECORD_SETS[prefix].keys
            if key.lower() not in keys:
                valid = ", ".join(f"{prefix}.{k}" for k in keys)
                raise self.error(token, f"unknown field {token.text!r}; expected one of: {valid}")
            return Field(prefix, key.lower(), token.position)
        return Field(prefix, key, token.position)

    @staticmethod
    def operators(field: Field) -> frozenset[str]:
        if field.prefix == "trace":
            return f.TRACE_FIELDS[field.key].operators
        if field.prefix == "span":
            return f.SPAN_FIELDS[field.key].operators
        if field.prefix in f.RECORD_SETS:
            return f.STRING_OPS
        return f.ANY_OPS

    def check_value(self, field: Field, op: str, value: Literal, text: str) -> None:
        column = None
        if field.prefix == "trace":
            column = f.TRACE_FIELDS[field.key]
        elif field.prefix == "span":
            column = f.SPAN_FIELDS[field.key]
        if "LIKE" in op and value.kind != "string":
            raise FilterSyntaxError(
                self.source, value.position, f"{op} needs a quoted pattern, e.g. '%text%'"
            )
        if field.prefix in f.RECORD_SETS and value.kind != "string":
            raise FilterSyntaxError(self.source, value.position, f"{text} expects a quoted string")
        if column is None:
            return
        wanted = "number" if column.type == "number" else "string"
        if value.kind != wanted:
            example = "a number, e.g. 500" if wanted == "number" else "a quoted string"
            raise FilterSyntaxError(self.source, value.position, f"{text} expects {example}")


def parse_filter(filter_string: str) -> Node | None:
    """Parse ``filter_string``; None for an empty filter.

    Raises:
        FilterSyntaxError: quoting the filter and pointing at the offending token.
    """
    if not filter_string or not filter_string.strip():
        return None
    if len(filter_string) > MAX_FILTER_LENGTH:
        raise FilterSyntaxError(
            filter_string[:60] + "...",
            0,
            f"filter too long: {len(filter_string)} characters, at most {MAX_FILTER_LENGTH}",
        )
    return _Parser(filter_string).parse()
