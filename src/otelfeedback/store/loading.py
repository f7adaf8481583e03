"""Load whole traces (info, spans, assessments) from the index by their integer keys."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from typing import Any

from otelfeedback.assessments.entities import assessment_from_dict
from otelfeedback.store import reading
from otelfeedback.store.entities import Span, Trace

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
                f"SELECT {reading.INFO_COLUMNS} FROM traces WHERE id IN ({marks})", batch
            )
        }
        infos.update(found)
        trace_ids = {tid: row[1] for tid, row in found.items()}
        if include_spans:
            for row in conn.execute(
                f"SELECT {reading.SPAN_COLUMNS} FROM spans WHERE tid IN ({marks}) "
                "ORDER BY start_ns, rowid",
                batch,
            ):
                spans[row[0]].append(reading.span(trace_ids[row[0]], row))
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
        info = reading.trace_info(row, assessments.get(row[1], []))
        result.append(Trace(info, spans.get(tid, [])))
    return result
