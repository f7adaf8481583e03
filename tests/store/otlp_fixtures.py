"""Write OTLP/JSON lines by hand, as the Collector's file exporter (or another SDK) would
(attribute values through the package's one any-value encoder)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from otelfeedback._internal.otlp_json.encode import key_values

T0 = 1_700_000_000_000_000_000  # ns


def attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return key_values(values)


def span(
    trace_id: str,
    span_id: str,
    name: str = "span",
    parent: str | None = None,
    start_ms: float = 0,
    duration_ms: float = 10,
    attrs: dict[str, Any] | None = None,
    status: int = 0,
    events: list[dict[str, Any]] | None = None,
    links: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    start = T0 + int(start_ms * 1_000_000)
    data: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + int(duration_ms * 1_000_000)),
        "attributes": attributes(attrs or {}),
        "status": {"code": status} if status else {},
    }
    if parent:
        data["parentSpanId"] = parent
    if events:
        data["events"] = events
    if links:
        data["links"] = links
    return data


def request(spans: Iterable[dict[str, Any]], service: str = "svc") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes({"service.name": service})},
                "scopeSpans": [{"scope": {"name": "test", "version": "1"}, "spans": list(spans)}],
            }
        ]
    }


def line(spans: Iterable[dict[str, Any]], service: str = "svc") -> str:
    return json.dumps(request(spans, service), separators=(",", ":")) + "\n"


def append(store: Path, text: str, segment: int = 1) -> Path:
    path = store / "traces" / f"segment-{segment:06d}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)
    return path


def tid(n: int) -> str:
    return f"{n:032x}"


def sid(n: int) -> str:
    return f"{n:016x}"


def io_attrs(
    span_type: str, inputs: Any = None, outputs: Any = None, **extra: Any
) -> dict[str, Any]:
    attrs: dict[str, Any] = {"otelfeedback.span_type": span_type}
    if inputs is not None:
        attrs["input.value"] = json.dumps(inputs) if not isinstance(inputs, str) else inputs
        attrs["input.mime_type"] = "text/plain" if isinstance(inputs, str) else "application/json"
    if outputs is not None:
        attrs["output.value"] = json.dumps(outputs) if not isinstance(outputs, str) else outputs
        attrs["output.mime_type"] = "text/plain" if isinstance(outputs, str) else "application/json"
    attrs.update(extra)
    return attrs
