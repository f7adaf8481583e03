"""Reading what a real backend stored, through its own REST API (never through our code)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.error import HTTPError
from urllib.parse import quote, urlencode

from tests.bridges.conftest import call

T = TypeVar("T")


def eventually(read: Callable[[], T], check: Callable[[T], bool], timeout: float = 30.0) -> T:
    """Read until ``check`` passes (Phoenix ingests asynchronously); the last value read."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = read()
        except HTTPError as exc:
            if exc.code != 404 or time.monotonic() > deadline:
                raise
        else:
            if check(value) or time.monotonic() > deadline:
                return value
        time.sleep(0.1)


class Phoenix:
    """Phoenix's REST API for one project."""

    def __init__(self, url: str, project: str) -> None:
        self.url = url
        self.project = quote(project, safe="")

    def _get(self, path: str, **query: Any) -> Any:
        return call(
            "GET", f"{self.url}/v1/projects/{self.project}/{path}?{urlencode(query, doseq=True)}"
        )

    def spans(self, trace_id: str, count: int) -> dict[str, dict[str, Any]]:
        """The trace's spans by name, once ``count`` of them are in."""
        data = eventually(
            lambda: self._get("spans", trace_id=trace_id, limit=100)["data"],
            lambda spans: len(spans) >= count,
        )
        return {span["name"]: span for span in data}

    def traces(self) -> list[dict[str, Any]]:
        """Every trace row of the project."""
        return list(self._get("traces", limit=100)["data"])

    def trace(self, trace_id: str) -> dict[str, Any]:
        """The trace row (start, end, token totals)."""
        rows = eventually(
            lambda: self._get("traces", limit=100)["data"],
            lambda rows: any(r["trace_id"] == trace_id for r in rows),
        )
        return next(r for r in rows if r["trace_id"] == trace_id)

    def trace_annotations(
        self, trace_id: str, check: Callable[[list[dict[str, Any]]], bool]
    ) -> list[dict[str, Any]]:
        return eventually(lambda: self._get("trace_annotations", trace_ids=trace_id)["data"], check)

    def span_annotations(
        self, span_id: str, check: Callable[[list[dict[str, Any]]], bool]
    ) -> list[dict[str, Any]]:
        return eventually(lambda: self._get("span_annotations", span_ids=span_id)["data"], check)


def any_value(value: dict[str, Any]) -> Any:
    """An OTLP-JSON ``AnyValue`` as MLflow returns it (snake_case keys)."""
    for key, item in value.items():
        if key == "kvlist_value":
            return {kv["key"]: any_value(kv.get("value", {})) for kv in item.get("values", [])}
        if key == "array_value":
            return [any_value(v) for v in item.get("values", [])]
        if key == "int_value":
            return int(item)
        return item
    return None


class MLflow:
    """MLflow's REST API for traces."""

    def __init__(self, url: str) -> None:
        self.url = url

    def trace_info(self, trace_id: str) -> dict[str, Any]:
        """The trace's info, assessments included."""
        return dict(
            call("GET", f"{self.url}/api/3.0/mlflow/traces/tr-{trace_id}")["trace"]["trace_info"]
        )

    def spans(self, trace_id: str) -> dict[str, dict[str, Any]]:
        """The trace's spans by name, attributes decoded, ids as hex."""
        data = call("GET", f"{self.url}/api/3.0/mlflow/traces/get?trace_id=tr-{trace_id}")
        spans = {}
        for raw in data["trace"]["spans"]:
            span = dict(raw)
            span["attributes"] = {
                a["key"]: any_value(a["value"]) for a in span.get("attributes", [])
            }
            for key in ("span_id", "parent_span_id"):
                if span.get(key):
                    span[key] = base64.b64decode(span[key]).hex()
            spans[span["name"]] = span
        return spans

    def assessments(self, trace_id: str) -> dict[str, dict[str, Any]]:
        """The trace's assessments by id."""
        found = self.trace_info(trace_id).get("assessments", [])
        return {a["assessment_id"]: a for a in found}


def seconds(duration: str) -> float:
    """MLflow's ``execution_duration`` (``"0.046s"``) in seconds."""
    return float(duration.rstrip("s"))


def phoenix_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
