"""Span status: OK for @trace / start_span spans that end normally, ERROR for an exception,
and a setting that leaves it unset for libraries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry.trace import StatusCode

import otelfeedback
from otelfeedback.testing import capture_spans


@otelfeedback.trace
def ok(x: int) -> int:
    return x


@otelfeedback.trace
async def ok_async(x: int) -> int:
    return x


@otelfeedback.trace
def numbers() -> Iterator[int]:
    yield from (1, 2)


@otelfeedback.trace
async def numbers_async() -> AsyncIterator[int]:
    for i in (1, 2):
        yield i


@otelfeedback.trace
def boom() -> None:
    raise KeyError("missing")


def _statuses(spans: object) -> dict[str, StatusCode]:
    return {s.name: s.status.status_code for s in spans.get_finished_spans()}  # type: ignore[attr-defined]


async def _consume() -> list[int]:
    return [i async for i in numbers_async()]


def test_every_function_shape_that_returns_gets_status_ok() -> None:
    with capture_spans() as spans:
        ok(1)
        asyncio.run(ok_async(2))
        list(numbers())
        asyncio.run(_consume())
        with otelfeedback.start_span("block"):
            pass
        statuses = _statuses(spans)
    assert statuses == {
        "ok": StatusCode.OK,
        "ok_async": StatusCode.OK,
        "numbers": StatusCode.OK,
        "numbers_async": StatusCode.OK,
        "block": StatusCode.OK,
    }


def test_an_exception_gives_error_and_passes_through_unchanged() -> None:
    with capture_spans() as spans:
        with pytest.raises(KeyError, match="missing"):
            boom()
        with pytest.raises(ValueError):
            with otelfeedback.start_span("block"):
                raise ValueError("bad")
        statuses = _statuses(spans)
    assert statuses == {"boom": StatusCode.ERROR, "block": StatusCode.ERROR}


def test_an_error_recorded_without_raising_stays_error() -> None:
    with capture_spans() as spans:
        with otelfeedback.start_span("handled") as span:
            span.record_exception(TimeoutError("slow upstream"))
        statuses = _statuses(spans)
    assert statuses == {"handled": StatusCode.ERROR}


def test_status_ok_off_leaves_the_status_unset() -> None:
    with capture_spans(status_ok=False) as spans:
        ok(1)
        with otelfeedback.start_span("block"):
            pass
        with pytest.raises(KeyError):
            boom()
        statuses = _statuses(spans)
    assert statuses == {"ok": StatusCode.UNSET, "block": StatusCode.UNSET, "boom": StatusCode.ERROR}


def test_status_ok_can_be_turned_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTELFEEDBACK_STATUS_OK", "false")
    with capture_spans() as spans:
        ok(1)
        statuses = _statuses(spans)
    assert statuses == {"ok": StatusCode.UNSET}
