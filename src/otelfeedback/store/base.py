"""The interface every store implements (file store and remote store; SQL later)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from otelfeedback.assessments.entities import Expectation, Feedback
from otelfeedback.assessments.placement import Target
from otelfeedback.assessments.wire import AssessmentRecord
from otelfeedback.store.entities import Trace
from otelfeedback.store.paging import PagedList
from otelfeedback.store.records import Record, RecordWrite

#: The ``service.name`` of carrier spans a store writes itself (server, CLI).
WRITER_SERVICE_NAME = "otelfeedback"


class TraceStore(Protocol):
    """Read model of traces and their assessments; records that are not spans (label
    schemas, labeling sessions, datasets, evaluation runs: ``store/records.py``)."""

    @property
    def path(self) -> Path | str:
        """Where the store is (a directory or a server URL), for messages."""
        ...

    def get_trace(self, trace_id: str) -> Trace:
        """The trace with its spans and assessments; ``NotFoundError`` if unknown."""
        ...

    def search_traces(
        self,
        filter_string: str | None = None,
        max_results: int | None = 100,
        order_by: list[str] | str | None = None,
        page_token: str | None = None,
        run_id: str | None = None,
        include_spans: bool = True,
    ) -> PagedList[Trace]:
        """Traces matching the filter (see ``docs/search.md``), newest first by default."""
        ...

    def get_assessment(self, trace_id: str, assessment_id: str) -> Feedback | Expectation:
        """One assessment, as currently resolved; ``NotFoundError`` if unknown."""
        ...

    def find_root_span_id(self, trace_id: str) -> str | None:
        """The root span id of a stored trace, None when the trace is not stored."""
        ...

    def has_span(self, trace_id: str, span_id: str) -> bool: ...

    def existing_trace_ids(self, trace_ids: Sequence[str]) -> set[str]:
        """Which of these (well-formed) trace ids the store has, without loading traces."""
        ...

    def assessment_names(self) -> list[tuple[str, str]]:
        """Every ``(kind, name)`` of a valid assessment in the store (the traces table's
        columns), without loading traces."""
        ...

    def append_assessment(
        self,
        record: AssessmentRecord,
        target: Target | None,
        *,
        service_name: str = WRITER_SERVICE_NAME,
    ) -> None:
        """Append one assessment record about ``target`` (its carrier span, placed by
        ``assessments.placement``; ``service_name`` as the writer)
        to the store itself, durably: readers of the store see it once this returns. This
        is how the server and the CLI write: no tracer, no process configuration."""
        ...

    # -- records that are not spans --------------------------------------------------------
    def append_records(
        self, writes: Sequence[RecordWrite], *, author: str | None = None
    ) -> list[Record]:
        """Append a batch of record versions, all or nothing; versions and sequences are
        assigned atomically. ``ConflictError`` if an ``expected_version`` does not hold."""
        ...

    def append_record(
        self,
        kind: str,
        record_id: str,
        data: dict[str, Any],
        *,
        parent: str | None = None,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> Record:
        """Append a new version of one record."""
        ...

    def delete_record(
        self,
        kind: str,
        record_id: str,
        *,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> Record:
        """Append a deletion (a tombstone version) of one record."""
        ...

    def get_record(self, kind: str, record_id: str, version: int | None = None) -> Record:
        """The latest version (or ``version``); ``NotFoundError`` if unknown or deleted."""
        ...

    def list_records(
        self,
        kind: str,
        *,
        parent: str | None = None,
        as_of: int | None = None,
        include_deleted: bool = False,
        changed_after: int | None = None,
    ) -> list[Record]:
        """The latest version of every record of a kind (and parent) as of a sequence; with
        ``changed_after``, only those whose latest version came after that sequence."""
        ...

    def record_history(self, kind: str, record_id: str) -> list[Record]:
        """Every version of a record, oldest first."""
        ...
