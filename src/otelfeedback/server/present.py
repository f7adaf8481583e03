"""View models for the pages: assessment columns, value cells, the span tree, durations.

Pure functions of store entities; the templates only lay out what these return (and
Jinja2's autoescape makes every string inert, whatever the trace contains).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from otelfeedback.assessments.entities import Expectation, Feedback
from otelfeedback.server.span_facts import format_number, tokens
from otelfeedback.store.base import TraceStore
from otelfeedback.store.entities import Span, Trace

Assessment = Feedback | Expectation
#: Characters of a text or JSON value in a table chip (the card shows all of it).
CHIP_CHARS = 40


def store_assessment_names(store: TraceStore) -> dict[str, list[str]]:
    """Every assessment name the store knows, by kind (the traces table's columns)."""
    names: dict[str, set[str]] = {"feedback": set(), "expectation": set()}
    for kind, name in store.assessment_names():
        names.setdefault(kind, set()).add(name)
    return {kind: sorted(values) for kind, values in names.items()}


@dataclass
class Column:
    kind: str  # "feedback" | "expectation"
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.name}"


def assessment_columns(traces: list[Trace], known: dict[str, list[str]] | None) -> list[Column]:
    """One column per assessment name: feedback first, then expectations, by name."""
    names: dict[str, set[str]] = {"feedback": set(), "expectation": set()}
    for kind, values in (known or {}).items():
        names.setdefault(kind, set()).update(values)
    for trace in traces:
        for a in trace.assessments:
            if a.valid:
                names[a.kind].add(a.name)
    return [Column(kind, n) for kind in ("feedback", "expectation") for n in sorted(names[kind])]


@dataclass
class Value:
    """An assessment value ready to show: ``kind`` picks the look, ``text`` is the label."""

    kind: str  # "yes" | "no" | "number" | "text" | "json" | "error" | "none"
    text: str
    full: str

    @property
    def css(self) -> str:
        return f"value value-{self.kind}"


def present_value(a: Assessment | None = None, raw: Any = None) -> Value:
    value = a.value if a is not None else raw
    if a is not None and a.error is not None and value is None:
        message = a.error.error_message or a.error.error_code
        return Value("error", a.error.error_code, message)
    if value is True:
        return Value("yes", "true", "true")
    if value is False:
        return Value("no", "false", "false")
    if value is None:
        return Value("none", "—", "null")
    if isinstance(value, (int, float)):
        text = format_number(value) if isinstance(value, float) else str(value)
        return Value("number", text, text)
    if isinstance(value, str):
        return Value("text", shorten(value, CHIP_CHARS), value)
    full = json.dumps(value, ensure_ascii=False, indent=2)
    return Value("json", shorten(json.dumps(value, ensure_ascii=False), CHIP_CHARS), full)


def chip_title(a: Assessment) -> str:
    """A table chip's tooltip: the whole value, who gave it, and the rationale."""
    value = present_value(a)
    source = f"{a.source.source_type}".replace("_", " ").lower()
    lines = [f"{a.name} = {value.full}", f"by {a.source.source_id} ({source})"]
    if a.rationale:
        lines.append(a.rationale if len(a.rationale) <= 600 else a.rationale[:599] + "…")
    return "\n".join(lines)


def assessments_of(trace: Trace, kind: str, name: str) -> list[Assessment]:
    """The valid assessments of one name on a trace (newest first)."""
    found = [a for a in trace.assessments if a.valid and a.kind == kind and a.name == name]
    found.sort(key=lambda a: a.last_update_time_ms or 0, reverse=True)
    return found


def status_label(status: str) -> str:
    """A span's status as the trace's is shown: an unset status is no error, i.e. OK."""
    return "ERROR" if status == "ERROR" else "OK"


def cell(trace: Trace, column: Column) -> list[Value]:
    """The valid values of one assessment name on a trace (newest first)."""
    found = [
        a for a in trace.assessments if a.valid and a.kind == column.kind and a.name == column.name
    ]
    found.sort(key=lambda a: a.last_update_time_ms or 0, reverse=True)
    return [present_value(a) for a in found]


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def duration(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms >= 60_000:
        return f"{ms / 60_000:.1f} min"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def size(count: int) -> str:
    """A byte count for people: ``"830 B"``, ``"12.4 MB"``."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _moment(ms: int) -> datetime.datetime | None:
    """The UTC time of ``ms``; None past the calendar's range (year 9999)."""
    try:
        return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def timestamp(ms: int | None) -> str:
    if not ms:
        return "—"
    moment = _moment(ms)
    return f"{ms} ms" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def iso(ms: int | None) -> str:
    if not ms:
        return ""
    moment = _moment(ms)
    if moment is None:
        return ""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class TreeRow:
    """One span in the tree: indentation, timeline bar (percent of the trace), counts."""

    span: Span
    depth: int
    offset_pct: float
    width_pct: float
    children: int
    assessments: int
    ancestors: list[str] = field(default_factory=list)
    chips: list[Assessment] = field(default_factory=list)

    @property
    def tokens(self) -> tuple[int | None, int | None]:
        """The span's own input and output tokens."""
        return tokens(self.span)

    @property
    def offset(self) -> int:
        """The timeline bar's start, in whole percent (a CSS class: the CSP bans inline style)."""
        return max(0, min(99, int(self.offset_pct)))

    @property
    def width(self) -> int:
        return max(1, min(100 - self.offset, round(self.width_pct)))


def span_tree(trace: Trace) -> list[TreeRow]:
    """The spans depth-first in start order; a span whose parent is not in the trace is a
    root. The timeline runs from the first start to the last end."""
    spans = trace.spans
    if not spans:
        return []
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = {}
    for s in spans:
        parent = s.parent_id if s.parent_id in ids else None
        children.setdefault(parent, []).append(s)
    for group in children.values():
        group.sort(key=lambda s: (s.start_time_ns, s.name))
    start = min(s.start_time_ns for s in spans)
    end = max(max(s.end_time_ns, s.start_time_ns) for s in spans)
    total = max(end - start, 1)
    by_span = assessments_by_span(trace)
    rows: list[TreeRow] = []
    stack: list[tuple[Span, int, list[str]]] = [
        (s, 0, []) for s in reversed(children.get(None, []))
    ]
    seen: set[str] = set()
    while stack:
        span, depth, ancestors = stack.pop()
        if span.span_id in seen:  # a cycle in malformed data
            continue
        seen.add(span.span_id)
        kids = children.get(span.span_id, [])
        rows.append(
            TreeRow(
                span=span,
                depth=depth,
                offset_pct=100.0 * (span.start_time_ns - start) / total,
                width_pct=max(100.0 * (span.end_time_ns - span.start_time_ns) / total, 0.5),
                children=len(kids),
                assessments=len(by_span.get(span.span_id, [])),
                ancestors=ancestors,
                chips=sorted(by_span.get(span.span_id, []), key=lambda a: a.name),
            )
        )
        for kid in reversed(kids):
            stack.append((kid, depth + 1, [*ancestors, span.span_id]))
    return rows


def assessments_by_span(trace: Trace) -> dict[str, list[Assessment]]:
    """Current (valid) assessments per target span id (the root for trace-level ones)."""
    root = trace.info.root_span_id or ""
    result: dict[str, list[Assessment]] = {}
    for a in trace.assessments:
        if a.valid:
            result.setdefault(a.span_id or root, []).append(a)
    return result


def history(trace: Trace, assessment: Assessment) -> list[Assessment]:
    """The assessments this one overrode, newest first (the override chain)."""
    by_id = {a.assessment_id: a for a in trace.assessments}
    chain: list[Assessment] = []
    current = assessment
    while current.overrides and current.overrides in by_id and len(chain) < 100:
        current = by_id[current.overrides]
        chain.append(current)
    return chain
