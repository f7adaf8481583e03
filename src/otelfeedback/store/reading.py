"""Index rows back into entities: a ``traces`` row into a ``TraceInfo``, a ``spans`` row
into a ``Span``. Every SQL-backed store loads with these (the file store's SQLite index and
the PostgreSQL store share the columns, ``schema.py`` and ``sql/schema.py``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from otelfeedback.assessments.entities import Expectation, Feedback
from otelfeedback.store.entities import Span, TraceInfo

#: The ``traces`` columns ``trace_info`` reads, in order.
INFO_COLUMNS = (
    "id, trace_id, name, service_name, root_span_id, start_ms, execution_time_ms, status, "
    "request_preview, response_preview, tags, metadata, session_id, user_id, input_tokens, "
    "output_tokens, span_count"
)
#: The ``spans`` columns ``span`` reads, in order.
SPAN_COLUMNS = "tid, span_id, parent_span_id, name, start_ns, end_ns, data"
#: Fields a ``data`` column may carry to override its row's columns: the exact value when
#: the column had to hold another (PostgreSQL cuts long names, clamps times to 64 bits).
_EXACT = ("name", "start_ns", "end_ns")


def trace_info(row: Sequence[Any], assessments: list[Feedback | Expectation]) -> TraceInfo:
    """The ``TraceInfo`` of a ``traces`` row (``INFO_COLUMNS``)."""
    return TraceInfo(
        trace_id=row[1],
        name=row[2],
        service_name=row[3],
        root_span_id=row[4],
        timestamp_ms=row[5],
        execution_time_ms=row[6],
        status=row[7],
        request_preview=row[8],
        response_preview=row[9],
        tags=json.loads(row[10]),
        metadata=json.loads(row[11]),
        session_id=row[12],
        user_id=row[13],
        input_tokens=row[14],
        output_tokens=row[15],
        span_count=row[16],
        assessments=assessments,
    )


def span(trace_id: str, row: Sequence[Any]) -> Span:
    """The ``Span`` of a ``spans`` row (``SPAN_COLUMNS``) of the trace ``trace_id``."""
    _, span_id, parent_id, name, start_ns, end_ns, data = row
    fields = json.loads(data)
    exact = {key: fields.pop(key) for key in _EXACT if key in fields}
    fields.update(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent_id,
        name=name,
        start_ns=start_ns,
        end_ns=end_ns,
    )
    fields.update(exact)
    return Span.from_row_data(fields)
