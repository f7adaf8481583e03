"""``search_traces(return_type="pandas")``: traces as a DataFrame (pandas is optional)."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from otelfeedback.errors import MissingExtraError
from otelfeedback.store.entities import Trace
from otelfeedback.store.paging import PagedList

COLUMNS = (
    "trace_id",
    "trace",
    "name",
    "status",
    "request_time",
    "execution_duration",
    "request",
    "response",
    "tags",
    "trace_metadata",
    "spans",
    "assessments",
)


def require_pandas() -> None:
    if importlib.util.find_spec("pandas") is None:
        raise MissingExtraError("pandas", 'search_traces(return_type="pandas")')


def traces_to_frame(traces: PagedList[Trace] | list[Trace]) -> Any:
    """One row per trace; ``df.attrs["page_token"]`` is the next page's token."""
    require_pandas()
    pd: Any = importlib.import_module("pandas")

    rows = []
    for trace in traces:
        info = trace.info
        root = trace.root_span
        rows.append(
            {
                "trace_id": info.trace_id,
                "trace": trace.to_json(),
                "name": info.name,
                "status": info.status,
                "request_time": info.timestamp_ms,
                "execution_duration": info.execution_time_ms,
                "request": root.inputs if root else info.request_preview,
                "response": root.outputs if root else info.response_preview,
                "tags": dict(info.tags),
                "trace_metadata": dict(info.metadata),
                "spans": [s.to_dict() for s in trace.spans],
                "assessments": [a.to_dict() for a in info.assessments],
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame.attrs["page_token"] = getattr(traces, "token", None)
    return frame
