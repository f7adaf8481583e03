"""The read/write model of traces and assessments: the file store and its SQLite index.

>>> from otelfeedback.store import FileStore
>>> FileStore  # doctest: +ELLIPSIS
<class '...FileStore'>
"""

from otelfeedback._internal.otlp_json.decode import SpanEvent
from otelfeedback.store.base import TraceStore
from otelfeedback.store.entities import Span, Trace, TraceInfo
from otelfeedback.store.file_store import FileStore
from otelfeedback.store.paging import PagedList

__all__ = [
    "FileStore",
    "PagedList",
    "Span",
    "SpanEvent",
    "Trace",
    "TraceInfo",
    "TraceStore",
]
