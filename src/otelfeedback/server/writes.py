"""Assessment writes from the server (REST API and UI forms), through the SDK's own API.

The server does not build assessment records itself: it calls ``otelfeedback``'s
``log_feedback`` / ``log_expectation`` / ``update_assessment`` / ``override_feedback`` /
``delete_assessment`` within ``writing_to(store)``, so a record written from the UI is the
kind an app writes (a carrier span, docs/assessments.md), appended to the server's store
before the call returns. The process's own configuration is never touched: an app that
embeds the server keeps sending its spans where it configured them.
"""

from __future__ import annotations

import threading
from typing import Any

from otelfeedback.api import assessments as api
from otelfeedback.assessments.entities import AssessmentSource, Expectation, Feedback
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.semconv import AssessmentSourceType
from otelfeedback.store.base import TraceStore

SERVICE_NAME = "otelfeedback-server"


def source_from(data: Any, default_type: str = "HUMAN") -> AssessmentSource | None:
    """An ``AssessmentSource`` from its JSON form ``{"source_type", "source_id"}``."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InvalidArgumentError("source", "expected an object {source_type, source_id}")
    return AssessmentSource.parse(data, AssessmentSourceType(default_type))


class AssessmentWriter:
    """Serialises assessment writes to one store."""

    def __init__(self, store: TraceStore) -> None:
        self.store = store
        self._lock = threading.Lock()

    def create(
        self,
        trace_id: str,
        *,
        kind: str,
        name: Any,
        value: Any,
        rationale: Any = None,
        source: AssessmentSource | None = None,
        span_id: Any = None,
        metadata: Any = None,
        error: Any = None,
    ) -> Feedback | Expectation:
        """A new feedback or expectation (``kind``), validated by the SDK."""
        with self._lock, api.writing_to(self.store, service_name=SERVICE_NAME):
            result: Feedback | Expectation
            if kind == "feedback":
                result = api.log_feedback(
                    trace_id, name, value, rationale, source, span_id, metadata, error
                )
            elif kind == "expectation":
                if rationale:
                    raise InvalidArgumentError("rationale", "an expectation has no rationale")
                result = api.log_expectation(trace_id, name, value, source, span_id, metadata)
            else:
                raise InvalidArgumentError(
                    "kind", f"expected 'feedback' or 'expectation', got {kind!r}"
                )
            return result

    def update(self, trace_id: str, assessment_id: str, **changes: Any) -> Feedback | Expectation:
        with self._lock, api.writing_to(self.store, service_name=SERVICE_NAME):
            return api.update_assessment(trace_id, assessment_id, **changes)

    def override(
        self,
        trace_id: str,
        assessment_id: str,
        *,
        value: Any,
        rationale: Any = None,
        source: AssessmentSource | None = None,
        metadata: Any = None,
    ) -> Feedback:
        with self._lock, api.writing_to(self.store, service_name=SERVICE_NAME):
            return api.override_feedback(
                trace_id, assessment_id, value, rationale, source, metadata
            )

    def delete(self, trace_id: str, assessment_id: str) -> None:
        with self._lock, api.writing_to(self.store, service_name=SERVICE_NAME):
            api.delete_assessment(trace_id, assessment_id)

    def edit(
        self,
        trace_id: str,
        assessment_id: str,
        *,
        value: Any,
        rationale: str | None,
        reviewer: str,
        current: Feedback | Expectation,
    ) -> Feedback | Expectation:
        """The UI's edit: your own assessment (and any expectation) is updated in place;
        someone else's feedback is overridden, keeping theirs in the history."""
        own = (
            str(current.source.source_type) == AssessmentSourceType.HUMAN.value
            and current.source.source_id == reviewer
        )
        if own or current.kind == "expectation":
            changes: dict[str, Any] = {"value": value}
            if current.kind == "feedback" and rationale is not None:
                changes["rationale"] = rationale
            return self.update(trace_id, assessment_id, **changes)
        return self.override(
            trace_id,
            assessment_id,
            value=value,
            rationale=rationale,
            source=AssessmentSource(AssessmentSourceType.HUMAN, reviewer),
        )
