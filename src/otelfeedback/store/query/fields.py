"""The fields a filter can name, their value types and the operators each accepts."""

from __future__ import annotations

from dataclasses import dataclass

NUMBER_OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN"})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN"})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})
TEXT_OPS = frozenset({"LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"})
ANY_OPS = NUMBER_OPS | STRING_OPS | NULL_OPS


@dataclass(frozen=True)
class TraceColumn:
    """A column of the traces table."""

    column: str
    type: str  # "number" | "string" | "text"
    nullable: bool = False
    upper: bool = False  # compare upper-cased (enumerations such as status)

    @property
    def operators(self) -> frozenset[str]:
        if self.type == "number":
            return NUMBER_OPS
        if self.type == "text":
            return TEXT_OPS
        return STRING_OPS | NULL_OPS if self.nullable else STRING_OPS


TRACE_FIELDS: dict[str, TraceColumn] = {
    "trace_id": TraceColumn("trace_id", "string"),
    "name": TraceColumn("name", "string", nullable=True),
    "status": TraceColumn("status", "string", upper=True),
    "timestamp_ms": TraceColumn("start_ms", "number"),
    "end_time_ms": TraceColumn("end_ms", "number"),
    "execution_time_ms": TraceColumn("execution_time_ms", "number"),
    "service_name": TraceColumn("service_name", "string", nullable=True),
    "session_id": TraceColumn("session_id", "string", nullable=True),
    "user_id": TraceColumn("user_id", "string", nullable=True),
    "input_tokens": TraceColumn("input_tokens", "number"),
    "output_tokens": TraceColumn("output_tokens", "number"),
    "total_tokens": TraceColumn("total_tokens", "number"),
    "span_count": TraceColumn("span_count", "number"),
    "text": TraceColumn("", "text"),
}
TRACE_ALIASES = {
    "timestamp": "timestamp_ms",
    "end_time": "end_time_ms",
    "execution_time": "execution_time_ms",
    "request_id": "trace_id",
    "service": "service_name",
}

SPAN_FIELDS: dict[str, TraceColumn] = {
    "name": TraceColumn("name", "string"),
    "type": TraceColumn("span_type", "string", upper=True),
    "status": TraceColumn("status", "string", upper=True),
    "trace_id": TraceColumn("trace_id", "string"),
    "span_id": TraceColumn("span_id", "string"),
}


@dataclass(frozen=True)
class RecordSet:
    """A set of traces kept as records (``store/records.py``): a *set* record (by id, or by
    the ``name`` in its data) and *member* records (``parent`` = the set's id) whose data
    holds a ``trace_id``. ``labeling_session.name = 'x'`` matches the traces that are
    members of a live set named x."""

    set_kind: str
    member_kind: str
    keys: tuple[str, ...] = ("id", "name")


#: Filter prefix -> the record set it names. A labeling session's items are its members.
RECORD_SETS: dict[str, RecordSet] = {
    "labeling_session": RecordSet("labeling_session", "labeling_item"),
}

#: prefix (and aliases) -> canonical prefix
PREFIXES = {
    "trace": "trace",
    "attributes": "trace",
    "attribute": "trace",
    "tags": "tags",
    "tag": "tags",
    "metadata": "metadata",
    "request_metadata": "metadata",
    "span": "span",
    "feedback": "feedback",
    "expectation": "expectation",
    "expectations": "expectation",
    "labeling_session": "labeling_session",
}

#: order_by keys -> traces columns
ORDER_KEYS = {
    "timestamp_ms": "start_ms",
    "timestamp": "start_ms",
    "end_time_ms": "end_ms",
    "end_time": "end_ms",
    "execution_time_ms": "execution_time_ms",
    "execution_time": "execution_time_ms",
    "name": "name",
    "status": "status",
    "trace_id": "trace_id",
    "total_tokens": "total_tokens",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "span_count": "span_count",
}
#: The ``traces`` columns of ``ORDER_KEYS`` that may be NULL (the others never are).
NULLABLE_ORDER_COLUMNS = frozenset({"name"})
