"""The summary strip above the traces table: four figures with a small bar chart each
(volume, latency, error rate, thumbs-down share) over the selected time range.

The charts are inline SVG computed here (bar geometry in SVG attributes, which the CSP
allows, unlike style attributes): no chart library, no script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from otelfeedback.server import present
from otelfeedback.store.stats import Bucket, TraceStats

WIDTH = 168
HEIGHT = 30


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Card:
    """One figure: ``label``, the big ``value``, a ``detail`` line and its bars."""

    key: str
    label: str
    value: str
    detail: str
    bars: list[Bar] = field(default_factory=list)
    description: str = ""


def _when(bucket: Bucket) -> str:
    return present.timestamp(bucket.start_ms)[:16]


def _bars(
    buckets: list[Bucket],
    values: Sequence[float | None],
    css: str,
    titles: list[str],
    under: list[float] | None = None,
) -> list[Bar]:
    """Bars scaled to the largest value; ``under`` stacks a second series (e.g. errors in
    the volume bars) from the bottom in the ``-under`` style."""
    top = max((v for v in values if v is not None), default=0) or 1
    step = WIDTH / max(1, len(buckets))
    bars: list[Bar] = []
    for i, value in enumerate(values):
        if value is None or value <= 0:
            continue
        height = max(1.5, HEIGHT * value / top)
        x = round(i * step + 0.5, 2)
        width = round(max(1.0, step - 1.5), 2)
        bars.append(Bar(x, round(HEIGHT - height, 2), width, round(height, 2), css, titles[i]))
        if under is not None and under[i] > 0:
            low = max(1.5, HEIGHT * under[i] / top)
            bars.append(
                Bar(x, round(HEIGHT - low, 2), width, round(low, 2), f"{css}-under", titles[i])
            )
    return bars


def _percent(share: float | None) -> str:
    if share is None:
        return "—"
    percent = 100 * share
    return f"{percent:.0f}%" if percent >= 10 or percent == 0 else f"{percent:.1f}%"


def strip(stats: TraceStats) -> list[Card]:
    """The four cards for ``stats`` (which has at least one trace)."""
    b = stats.buckets
    counts = [float(x.count) for x in b]
    volume_titles = [f"{_when(x)}: {x.count} traces, {x.errors} failed" for x in b]
    latency = [x.mean_ms for x in b]
    latency_titles = [
        f"{_when(x)}: mean {present.duration(x.mean_ms)}" if x.count else f"{_when(x)}: none"
        for x in b
    ]
    error_rates = [x.errors / x.count if x.count else None for x in b]
    error_titles = [
        f"{_when(x)}: {x.errors} of {x.count} failed" if x.count else f"{_when(x)}: none" for x in b
    ]
    rated = [x.thumbs_up + x.thumbs_down for x in b]
    down = [x.thumbs_down / r if r else None for x, r in zip(b, rated, strict=True)]
    down_titles = [
        f"{_when(x)}: {x.thumbs_down} of {r} ratings negative" if r else f"{_when(x)}: no ratings"
        for x, r in zip(b, rated, strict=True)
    ]
    rated_total = stats.thumbs_up + stats.thumbs_down
    return [
        Card(
            "volume",
            "Traces",
            f"{stats.count:,}+" if stats.sampled else f"{stats.count:,}",
            (f"newest {stats.count:,} summarised · " if stats.sampled else "")
            + (f"{stats.errors:,} failed" if stats.errors else "none failed"),
            _bars(b, counts, "bar-volume", volume_titles, under=[float(x.errors) for x in b]),
            "Traces per time slice; failed ones in red",
        ),
        Card(
            "latency",
            "Latency p50 / p95",
            f"{present.duration(stats.p50_ms)} / {present.duration(stats.p95_ms)}",
            "mean per slice below",
            _bars(b, latency, "bar-latency", latency_titles),
            "Mean latency per time slice",
        ),
        Card(
            "errors",
            "Error rate",
            _percent(stats.error_rate),
            f"{stats.errors:,} of {stats.count:,}",
            _bars(b, error_rates, "bar-errors", error_titles),
            "Share of failed traces per time slice",
        ),
        Card(
            "thumbs",
            "Thumbs down",
            _percent(stats.thumbs_down_share),
            f"{stats.thumbs_down:,} of {rated_total:,} ratings" if rated_total else "no ratings",
            _bars(b, down, "bar-thumbs", down_titles),
            "Share of negative yes/no feedback per time slice",
        ),
    ]
