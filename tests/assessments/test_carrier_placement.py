"""Carrier spans never change their target trace: their timestamps lie within the target's
time, their parent is a span the trace has (or they are a trace of their own, linked), and
the real time of the feedback stays in the record. Seconds and days after the call, with and
without a store, in-process and through the server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace as trace_api

import otelfeedback
from otelfeedback import semconv as sc
from otelfeedback._internal.otlp_json.decode import SpanRecord, iter_spans
from otelfeedback._internal.otlp_json.segments import list_segments
from otelfeedback.testing import CapturedSpans
from tests.server.live import LiveServer, send_json

DAY_NS = 86_400 * 10**9


def stored_spans(store: Path) -> list[SpanRecord]:
    """Every span line of a file store, as written (carriers included)."""
    spans: list[SpanRecord] = []
    for _, path in list_segments(store / "traces"):
        for line in path.read_bytes().splitlines():
            spans.extend(iter_spans(json.loads(line)))
    return spans


def split(spans: list[SpanRecord], trace_id: str) -> tuple[list[SpanRecord], list[SpanRecord]]:
    """The trace's own spans, and the carriers of records about it."""
    own = [s for s in spans if s.trace_id == trace_id and sc.ASSESSMENT_ID not in s.attributes]
    carriers = [s for s in spans if s.attributes.get(sc.ASSESSMENT_TRACE_ID) == trace_id]
    return own, carriers


def assert_inside(carrier: SpanRecord, own: list[SpanRecord]) -> None:
    """The carrier leaves the trace's duration and shape as they were."""
    assert carrier.trace_id == own[0].trace_id
    assert carrier.parent_id in {s.span_id for s in own}
    start = min(s.start_time_ns for s in own)
    end = max(s.end_time_ns for s in own)
    assert start <= carrier.start_time_ns == carrier.end_time_ns <= end


def old_trace(config: otelfeedback.Configuration, days_ago: float) -> tuple[str, str, str]:
    """An app's trace recorded ``days_ago`` (explicit timestamps, the app's own tracer):
    its trace id, root span id and child span id."""
    tracer = config.tracer_provider.get_tracer("legacy-app")
    start = time.time_ns() - int(days_ago * DAY_NS)
    root = tracer.start_span("handler", start_time=start)
    child = tracer.start_span(
        "retrieve", context=trace_api.set_span_in_context(root), start_time=start + 1_000_000
    )
    child.end(end_time=start + 5_000_000)
    root.end(end_time=start + 20_000_000)
    ctx, child_ctx = root.get_span_context(), child.get_span_context()
    otelfeedback.flush()
    return (
        format(ctx.trace_id, "032x"),
        format(ctx.span_id, "016x"),
        format(child_ctx.span_id, "016x"),
    )


@otelfeedback.trace(name="handler")
def handler(question: str) -> str:
    return retrieve(question)


@otelfeedback.trace(name="retrieve", span_type="RETRIEVER")
def retrieve(query: str) -> str:
    return "context for " + query


@pytest.mark.parametrize("days_ago", [2.0, 400.0])
def test_feedback_days_later_sits_at_the_end_of_its_target(tmp_path: Path, days_ago: float) -> None:
    config = otelfeedback.configure(store=tmp_path)
    trace_id, root_id, child_id = old_trace(config, days_ago)
    before = otelfeedback.get_trace(trace_id).info
    logged_at = time.time_ns()
    on_trace = otelfeedback.log_feedback(trace_id, "user_feedback", False)
    on_span = otelfeedback.log_feedback(trace_id, "relevance", 0.5, span_id=child_id)
    otelfeedback.flush()

    own, carriers = split(stored_spans(tmp_path), trace_id)
    by_id = {c.attributes[sc.ASSESSMENT_ID]: c for c in carriers}
    trace_carrier, span_carrier = by_id[on_trace.assessment_id], by_id[on_span.assessment_id]
    spans = {s.span_id: s for s in own}
    assert trace_carrier.parent_id == root_id
    assert trace_carrier.start_time_ns == spans[root_id].end_time_ns
    assert span_carrier.parent_id == child_id
    assert span_carrier.start_time_ns == spans[child_id].end_time_ns
    for carrier in carriers:
        assert_inside(carrier, own)
        # The real time of the feedback stays in the record.
        assert int(carrier.attributes[sc.ASSESSMENT_TIME_UNIX_NANO]) >= logged_at
    after = otelfeedback.get_trace(trace_id)
    assert after.info.execution_time_ms == before.execution_time_ms
    assert after.info.timestamp_ms == before.timestamp_ms
    assert len(after.spans) == 2 and {a.name for a in after.assessments} == {
        "user_feedback",
        "relevance",
    }


def test_updates_and_deletes_at_one_timestamp_keep_their_order(tmp_path: Path) -> None:
    config = otelfeedback.configure(store=tmp_path)
    trace_id, _, _ = old_trace(config, 2)
    first = otelfeedback.log_feedback(trace_id, "thumbs", False)
    otelfeedback.update_assessment(trace_id, first.assessment_id, value=True)
    otelfeedback.update_assessment(trace_id, first.assessment_id, rationale="second thoughts")
    override = otelfeedback.override_feedback(trace_id, first.assessment_id, False)
    otelfeedback.delete_assessment(trace_id, override.assessment_id)
    otelfeedback.flush()
    own, carriers = split(stored_spans(tmp_path), trace_id)
    assert len({c.start_time_ns for c in carriers}) == 1  # all at the root's end
    for carrier in carriers:
        assert_inside(carrier, own)
    [current] = otelfeedback.get_trace(trace_id).assessments
    assert (current.value, current.rationale, current.valid) == (True, "second thoughts", True)


def test_seconds_later_in_process_without_a_store() -> None:
    exporter = CapturedSpans()
    otelfeedback.configure(store="", exporters=[exporter])
    handler("hi")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    time.sleep(0.3)  # the user reads the answer
    otelfeedback.log_feedback(trace_id, "user_feedback", True)
    spans = exporter.get_finished_spans()
    own = [s for s in spans if s.name != sc.ASSESSMENT_CARRIER_SPAN_NAME]
    [carrier] = [s for s in spans if s.name == sc.ASSESSMENT_CARRIER_SPAN_NAME]
    root = next(s for s in own if s.name == "handler")
    assert carrier.context.trace_id == root.context.trace_id
    assert carrier.parent is not None and carrier.parent.span_id == root.context.span_id
    assert carrier.start_time == carrier.end_time == root.end_time
    assert carrier.attributes[sc.ASSESSMENT_TIME_UNIX_NANO] >= root.end_time + 300_000_000


def test_span_feedback_while_the_trace_runs_keeps_its_real_time() -> None:
    exporter = CapturedSpans()
    otelfeedback.configure(store="", exporters=[exporter])

    @otelfeedback.trace(name="request")
    def request() -> None:
        with otelfeedback.start_span("step") as step:
            pass
        time.sleep(0.05)
        otelfeedback.log_feedback(step.trace_id, "step_ok", True, span_id=step.span_id)
        time.sleep(0.05)

    request()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    carrier, step, root = spans[sc.ASSESSMENT_CARRIER_SPAN_NAME], spans["step"], spans["request"]
    assert carrier.parent is not None and carrier.parent.span_id == step.context.span_id
    assert carrier.start_time == carrier.attributes[sc.ASSESSMENT_TIME_UNIX_NANO]
    assert step.end_time < carrier.start_time < root.end_time


def test_without_anything_known_of_the_trace_the_carrier_is_a_trace_of_its_own() -> None:
    # Feedback from another process (no store): no span of the trace is known, nor its time.
    exporter = CapturedSpans()
    otelfeedback.configure(store="", exporters=[exporter])
    with otelfeedback.start_span("feedback-endpoint"):  # the carrier must not join this one
        otelfeedback.log_feedback("ab" * 16, "user_feedback", False)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    carrier, endpoint = spans[sc.ASSESSMENT_CARRIER_SPAN_NAME], spans["feedback-endpoint"]
    assert carrier.parent is None and carrier.links == ()
    assert carrier.context.trace_id not in (int("ab" * 16, 16), endpoint.context.trace_id)
    assert carrier.attributes[sc.ASSESSMENT_TRACE_ID] == "ab" * 16


@pytest.fixture
def old_store(tmp_path: Path) -> tuple[Path, str, str]:
    """A store holding a trace recorded two days ago."""
    store = tmp_path / "server-store"
    config = otelfeedback.configure(store=store)
    trace_id, root_id, _ = old_trace(config, 2)
    otelfeedback.reset()
    return store, trace_id, root_id


@pytest.fixture
def live_server(old_store: tuple[Path, str, str]) -> Iterator[LiveServer]:
    from otelfeedback.server import create_app

    live = LiveServer(create_app(old_store[0]))
    yield live
    otelfeedback.reset()
    live.close()


def test_through_the_server_api_days_later(live_server: LiveServer, old_store) -> None:  # type: ignore[no-untyped-def]
    store, trace_id, root_id = old_store
    reply = send_json(
        "POST", live_server.url + f"/api/traces/{trace_id}/assessments", {"name": "x", "value": 1}
    )
    assert reply.status == 201, reply.text
    own, [carrier] = split(stored_spans(store), trace_id)
    assert carrier.parent_id == root_id
    assert_inside(carrier, own)


def test_remote_mode_seconds_later(live_server: LiveServer, old_store) -> None:  # type: ignore[no-untyped-def]
    store = old_store[0]
    otelfeedback.configure(store=live_server.url)
    handler("remote")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    otelfeedback.flush()
    time.sleep(0.2)
    otelfeedback.log_feedback(trace_id, "user_feedback", True)
    otelfeedback.flush()
    own, [carrier] = split(stored_spans(store), trace_id)
    assert {s.name for s in own} == {"handler", "retrieve"}
    assert_inside(carrier, own)
    assert carrier.start_time_ns == next(s for s in own if s.name == "handler").end_time_ns
