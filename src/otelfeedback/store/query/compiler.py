"""Compile a parsed filter to a SQL ``WHERE`` clause over the index schema.

The schema (``store/schema.py``) is shared by every SQL-backed store: ``traces t`` (integer
key ``id``) plus ``spans``, ``span_attrs``, ``trace_tags``, ``trace_metadata`` and
``trace_text`` (which refer to it by ``tid``) and ``assessments`` (by ``trace_id``), whose
key/value rows carry ``value_text`` (the text, or the JSON of a non-string) and
``value_num`` (the number, when the value is one or reads as one).

Semantics: a condition on spans, tags, metadata or assessments holds when *some* row
satisfies it (``span.type = 'TOOL'``: the trace has a TOOL span; ``feedback.x != 'a'``: it has
a valid ``x`` feedback other than ``'a'``); ``IS NULL`` holds when there is *no* such row.
Only valid (not overridden) assessments count. A record set (``labeling_session.name``)
holds for the traces that are members of some live set matching the condition: the latest
version of each record counts (``records``, one row per version).

Bounded: the parser limits a tree's depth and size (``parser.MAX_DEPTH``, ``MAX_CONDITIONS``,
``MAX_VALUES``), so this recursive compiler never nears Python's recursion limit, and a long
run of ``AND``/``OR`` terms is written as a balanced tree of groups (``_GROUP`` terms each) so
the SQL expression stays far below SQLite's depth limit of 1,000 (a flat chain of 1,000 ``OR``
terms is 1,000 deep) and its parser's stack (about 30 nested groups).
"""

from __future__ import annotations

from typing import Any

from otelfeedback.store.query import fields as f
from otelfeedback.store.query.dialect import Dialect
from otelfeedback.store.query.parser import BoolOp, Comparison, Literal, Node, Not

#: prefix -> (table, key condition, the trace column of ``t`` and of the table). Assessments
#: refer to traces by id: they may be indexed before the trace they are about.
_KV_SUBQUERY = {
    "tags": ("trace_tags", "k.key = {p}", "id", "tid"),
    "metadata": ("trace_metadata", "k.key = {p}", "id", "tid"),
    "span_attr": ("span_attrs", "k.key = {p}", "id", "tid"),
    "feedback": (
        "assessments",
        "k.kind = 'feedback' AND k.valid = 1 AND k.name = {p}",
        "trace_id",
        "trace_id",
    ),
    "expectation": (
        "assessments",
        "k.kind = 'expectation' AND k.valid = 1 AND k.name = {p}",
        "trace_id",
        "trace_id",
    ),
}


#: Terms joined flat in one group of an AND/OR; longer runs nest groups of groups. Each
#: flat term adds one level to SQLite's expression tree (limit 1,000), each group level
#: takes room on its parser stack.
_GROUP = 64


def _join(op: str, parts: list[str]) -> str:
    """``(a OP b OP ...)``, as a balanced tree of groups when there are many parts."""
    while len(parts) > _GROUP:
        parts = [_join(op, parts[i : i + _GROUP]) for i in range(0, len(parts), _GROUP)]
    return "(" + f" {op} ".join(parts) + ")"


def _literal_text(literal: Literal) -> str:
    if literal.kind == "bool":
        return "true" if literal.value else "false"
    return str(literal.value)


class Compiler:
    """``compile(node)`` returns ``(sql, params)``; the SQL refers to ``t`` (traces)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return self.dialect.placeholder

    def compile(self, node: Node) -> tuple[str, list[Any]]:
        self.params = []
        return self.node(node), self.params

    def node(self, node: Node) -> str:
        if isinstance(node, BoolOp):
            return _join(node.op, [self.node(i) for i in node.items])
        if isinstance(node, Not):
            return f"(NOT {self.node(node.item)})"
        return self.comparison(node)

    def comparison(self, node: Comparison) -> str:
        field = node.field
        if field.prefix == "trace":
            column = f.TRACE_FIELDS[field.key]
            if column.type == "text":
                negate = node.op.startswith("NOT ")
                sql, params = self.dialect.text_condition(str(node.values[0].value))
                self.params.extend(params)
                return f"(NOT {sql})" if negate else sql
            return self.column_condition(f"t.{column.column}", column, node)
        if field.prefix == "span":
            column = f.SPAN_FIELDS[field.key]
            inner = self.column_condition(f"s.{column.column}", column, node)
            # Correlated: walks traces in the requested order and stops at the page size,
            # probing each trace's spans through the (span_type, tid) / (name, tid) indexes.
            return f"EXISTS (SELECT 1 FROM spans s WHERE s.tid = t.id AND {inner})"
        if field.prefix in f.RECORD_SETS:
            return self.record_set(f.RECORD_SETS[field.prefix], node)
        table, key_sql, outer, inner_column = _KV_SUBQUERY[field.prefix]
        mark = len(self.params)
        key_condition = key_sql.format(p=self.param(field.key))
        base = f"SELECT k.{inner_column} FROM {table} k WHERE {key_condition}"
        if node.op == "IS NULL":
            return f"t.{outer} NOT IN ({base})"
        if node.op != "IS NOT NULL":
            base = f"{base} AND {self.kv_condition(node)}"
        return self.dialect.membership(f"t.{outer}", base, self.params[mark:])

    def record_set(self, record_set: f.RecordSet, node: Comparison) -> str:
        """Membership of ``t`` in the live sets (latest version not deleted) matching the
        condition, through their live members."""
        json_text = self.dialect.json_text

        def latest(alias: str) -> str:
            return (
                f"{alias}.seq = (SELECT MAX(x.seq) FROM records x "
                f"WHERE x.kind = {alias}.kind AND x.id = {alias}.id)"
            )

        mark = len(self.params)
        member_kind = self.param(record_set.member_kind)
        set_kind = self.param(record_set.set_kind)
        subject = "s.id" if node.field.key == "id" else json_text("s.data", node.field.key)
        condition = self.column_condition(subject, f.TraceColumn(subject, "string"), node)
        subquery = (
            f"SELECT {json_text('i.data', 'trace_id')} FROM records i "
            f"WHERE i.kind = {member_kind} AND NOT i.deleted AND {latest('i')} "
            f"AND i.parent IN (SELECT s.id FROM records s WHERE s.kind = {set_kind} "
            f"AND NOT s.deleted AND {latest('s')} AND {condition})"
        )
        return self.dialect.membership("t.trace_id", subquery, self.params[mark:])

    def column_condition(self, sql_column: str, column: f.TraceColumn, node: Comparison) -> str:
        op = node.op
        if op == "IS NULL":
            return f"{sql_column} IS NULL"
        if op == "IS NOT NULL":
            return f"{sql_column} IS NOT NULL"
        values = [
            v.value.upper() if column.upper and isinstance(v.value, str) else v.value
            for v in node.values
        ]
        if "LIKE" in op:
            return self.like(sql_column, op, str(values[0]))
        if op in ("IN", "NOT IN"):
            marks = ", ".join(self.param(v) for v in values)
            return f"{sql_column} {op} ({marks})"
        return f"{sql_column} {op} {self.param(values[0])}"

    def like(self, sql_column: str, op: str, pattern: str) -> str:
        insensitive = "ILIKE" in op
        sql = self.dialect.like(sql_column, case_insensitive=insensitive)
        self.params.append(self.dialect.like_param(pattern, case_insensitive=insensitive))
        return f"NOT ({sql})" if op.startswith("NOT ") else sql

    def kv_condition(self, node: Comparison) -> str:
        """Condition on ``k.value_text`` / ``k.value_num`` for a key/value comparison."""
        op = node.op
        if "LIKE" in op:
            return self.like("k.value_text", op, str(node.values[0].value))
        if op in ("IN", "NOT IN"):
            texts = [v for v in node.values if v.kind != "number"]
            numbers = [v for v in node.values if v.kind == "number"]
            parts = []
            if texts:
                marks = ", ".join(self.param(_literal_text(v)) for v in texts)
                parts.append(f"k.value_text IN ({marks})")
            if numbers:
                marks = ", ".join(self.param(v.value) for v in numbers)
                parts.append(f"k.value_num IN ({marks})")
            condition = " OR ".join(parts)
            if op == "NOT IN":
                return f"NOT ({condition}) AND k.value_text IS NOT NULL"
            return f"({condition})"
        value = node.values[0]
        if value.kind == "number":
            return f"k.value_num {op} {self.param(value.value)}"
        return f"k.value_text {op} {self.param(_literal_text(value))}"


def compile_filter(node: Node | None, dialect: Dialect) -> tuple[str, list[Any]]:
    """``("1=1", [])`` for no filter, else the WHERE clause and its parameters."""
    if node is None:
        return "1=1", []
    return Compiler(dialect).compile(node)
