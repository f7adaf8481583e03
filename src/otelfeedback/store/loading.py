"""Load whole traces (info, spans, assessments) from the index by their integer keys."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from typing import Any

from otelfeedback.assessments.entities import assessment_from_dict
from otelfeedback.store.entities import Span, Trace, TraceInfo

_INFO_COLUMNS = (
    "id, trace_id, name, service_name, root_span_id, start_ms, execution_time_ms, status, "
    "request_preview, response_preview, tags, metadata, session_id, user_id, input_tokens, "
    "output_tokens, span_count"
)
#: Trace keys looked up per statement.
_BATCH = 500


def load_traces(conn: sqlite3.Connection, tids: list[int], *, include_spans: bool) -> list[Trace]:
    """The traces with these integer keys, in this order. Looked up ``_BATCH`` keys at a
    time: SQLite limits the variables of one statement (999 in builds before 3.32)."""
    infos: dict[int, tuple[Any, ...]] = {}
    spans: dict[int, list[Span]] = defaultdict(list)
    assessments: dict[str, list[Any]] = defaultdict(list)
    for start in range(0, len(tids), _BATCH):
        batch = tids[start : start + _BATCH]
        marks = ", ".join("?" * len(batch))
        found = {
            row[0]: row
            for row in conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM traces WHERE id IN ({marks})", batch
            )
        }
        infos.update(found)
        trace_ids = {tid: row[1] for tid, row in found.items()}
        if include_spans:
            for tid, span_id, parent_id, name, start_ns, end_ns, data in conn.execute(
                "SELECT tid, span_id, parent_span_id, name, start_ns, end_ns, data "
                f"FROM spans WHERE tid IN ({marks}) ORDER BY start_ns, rowid",
                batch,
            ):
                fields = json.loads(data)
                fields.update(
                    trace_id=trace_ids[tid],
                    span_id=span_id,
                    parent_id=parent_id,
                    name=name,
                    start_ns=start_ns,
                    end_ns=end_ns,
                )
                spans[tid].append(Span.from_row_data(fields))
        id_marks = ", ".join("?" * len(trace_ids))
        for trace_id, data in conn.execute(
            f"SELECT trace_id, data FROM assessments WHERE trace_id IN ({id_marks}) "
            "ORDER BY create_time_ms, assessment_id",
            list(trace_ids.values()),
        ):
            assessments[trace_id].append(assessment_from_dict(json.loads(data)))
    result = []
    for tid in tids:
        row = infos.get(tid)
        if row is None:
            continue
        info = TraceInfo(
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
            assessments=assessments.get(row[1], []),
        )
        result.append(Trace(info, spans.get(tid, [])))
    return result
