"""A sampler that shows what a span was started with, for tests of what samplers see."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult


class SeenBySampler(Sampler):
    """Samples everything and keeps the attributes each span was started with."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        attributes = kwargs.get("attributes", args[4] if len(args) > 4 else None)
        self.seen.append(dict(attributes or {}))
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "seen"
