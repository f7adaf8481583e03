"""start_span, trace-level fields and context that flows into spans, threads and tasks."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otelfeedback
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.testing import capture_spans


def test_start_span_setters_and_ids() -> None:
    with capture_spans() as spans:
        with otelfeedback.start_span("rerank", span_type="RERANKER", inputs={"docs": 2}) as span:
            span.set_outputs(["b", "a"])
            span.set_attribute("k", {"nested": True})
            span.set_attributes({"n": 3})
            span.add_event("cache-miss", {"key": "q1"})
            span.set_span_type("TOOL")
            trace_id, span_id = span.trace_id, span.span_id
        s = spans.get_finished_spans()[0]
    assert len(trace_id) == 32 and len(span_id) == 16
    assert format(s.context.span_id, "016x") == span_id
    assert json.loads(s.attributes["input.value"]) == {"docs": 2}
    assert json.loads(s.attributes["output.value"]) == ["b", "a"]
    assert json.loads(s.attributes["k"]) == {"nested": True}
    assert s.attributes["n"] == 3
    assert s.attributes["otelfeedback.span_type"] == "TOOL"
    assert s.attributes["openinference.span.kind"] == "TOOL"
    assert s.events[0].name == "cache-miss"


def test_start_span_records_and_reraises_exceptions() -> None:
    with capture_spans() as spans:
        with pytest.raises(ZeroDivisionError), otelfeedback.start_span("calc"):
            1 / 0
        s = spans.get_finished_spans()[0]
    assert s.status.status_code.name == "ERROR"
    assert s.events[0].attributes["exception.type"] == "ZeroDivisionError"


def test_record_exception_without_raising() -> None:
    with capture_spans() as spans:
        with otelfeedback.start_span("guard", span_type="GUARDRAIL") as span:
            span.record_exception(ValueError("blocked"))
        s = spans.get_finished_spans()[0]
    assert s.status.status_code.name == "ERROR"


def test_start_span_rejects_unknown_span_type() -> None:
    with capture_spans(), pytest.raises(InvalidArgumentError, match="expected one of"):
        with otelfeedback.start_span("x", span_type="nope"):
            pass
    with capture_spans(), otelfeedback.start_span("x") as span:
        with pytest.raises(InvalidArgumentError, match="span_type"):
            span.set_span_type("nope")


def test_using_helpers_reach_every_span_inside_and_merge() -> None:
    @otelfeedback.trace
    def inner() -> None:
        pass

    with capture_spans() as spans:
        with otelfeedback.using_session("s-1"), otelfeedback.using_user("u-7"):
            with otelfeedback.using_tags({"env": "prod"}), otelfeedback.using_tags(["beta"]):
                with otelfeedback.using_metadata({"a": 1}), otelfeedback.using_metadata({"b": 2}):
                    inner()
        inner()  # outside: nothing
        first, second = spans.get_finished_spans()
    assert first.attributes["session.id"] == "s-1"
    assert first.attributes["gen_ai.conversation.id"] == "s-1"
    assert first.attributes["user.id"] == "u-7"
    assert tuple(first.attributes["tag.tags"]) == ("env=prod", "beta")
    assert json.loads(first.attributes["otelfeedback.trace.tags"]) == {"env": "prod", "beta": ""}
    assert json.loads(first.attributes["metadata"]) == {"a": 1, "b": 2}
    assert "session.id" not in second.attributes


def test_using_helpers_work_as_decorators_sync_and_async() -> None:
    @otelfeedback.using_session("deco")
    @otelfeedback.trace
    def f() -> None:
        pass

    @otelfeedback.using_user("async-user")
    @otelfeedback.trace
    async def g() -> None:
        pass

    with capture_spans() as spans:
        f()
        asyncio.run(g())
        a, b = spans.get_finished_spans()
    assert a.attributes["session.id"] == "deco"
    assert b.attributes["user.id"] == "async-user"


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: otelfeedback.using_session(""), "session_id"),
        (lambda: otelfeedback.using_user(42), "user_id"),  # type: ignore[arg-type]
        (lambda: otelfeedback.using_tags("env=prod"), "tags"),  # type: ignore[arg-type]
        (lambda: otelfeedback.using_tags([""]), "tags"),
        (lambda: otelfeedback.using_metadata(["a"]), "metadata"),  # type: ignore[arg-type]
        (lambda: otelfeedback.update_current_trace(request_preview=3), "request_preview"),  # type: ignore[arg-type]
    ],
)
def test_bad_context_arguments_name_the_argument(call, argument) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(otelfeedback.InvalidArgumentError) as info:
        call()
    assert info.value.argument == argument
    assert isinstance(info.value, ValueError)


def test_update_current_trace_sets_fields_on_the_local_root_span() -> None:
    @otelfeedback.trace
    def child() -> None:
        otelfeedback.update_current_trace(
            tags={"version": "v2"},
            metadata={"k": 1},
            session_id="s",
            user_id="u",
            request_preview="Q?",
            response_preview="A.",
        )
        otelfeedback.update_current_trace(tags={"ab": "b"})

    @otelfeedback.trace
    def root() -> None:
        child()

    with capture_spans() as spans:
        with otelfeedback.using_tags({"env": "prod"}):
            root()
        by = {s.name.rsplit(".", 1)[-1]: s for s in spans.get_finished_spans()}
    attrs = by["root"].attributes
    assert json.loads(attrs["otelfeedback.trace.tags"]) == {
        "env": "prod",
        "version": "v2",
        "ab": "b",
    }
    assert json.loads(attrs["metadata"]) == {"k": 1}
    assert attrs["session.id"] == "s" and attrs["user.id"] == "u"
    assert attrs["otelfeedback.trace.request_preview"] == "Q?"
    assert attrs["otelfeedback.trace.response_preview"] == "A."
    assert "otelfeedback.trace.request_preview" not in by["child"].attributes


def test_update_current_trace_outside_a_span_does_nothing() -> None:
    otelfeedback.update_current_trace(tags={"a": "b"})


def test_context_propagates_into_threads_with_the_helper() -> None:
    @otelfeedback.trace
    def work(i: int) -> int:
        return i

    @otelfeedback.trace
    def fan_out() -> list[int]:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(otelfeedback.propagate_context(work), [1, 2, 3]))

    with capture_spans() as spans:
        with otelfeedback.using_session("threads"):
            assert fan_out() == [1, 2, 3]
        finished = spans.get_finished_spans()
    root = next(s for s in finished if s.name.endswith("fan_out"))
    workers = [s for s in finished if s.name.endswith("work")]
    assert len(workers) == 3
    assert all(w.parent.span_id == root.context.span_id for w in workers)
    assert all(w.attributes["session.id"] == "threads" for w in workers)


def test_context_flows_into_asyncio_tasks() -> None:
    @otelfeedback.trace
    async def leaf(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @otelfeedback.trace
    async def parent() -> list[int]:
        return list(await asyncio.gather(*(leaf(i) for i in range(3))))

    with capture_spans() as spans:
        asyncio.run(parent())
        finished = spans.get_finished_spans()
    root = next(s for s in finished if s.name.endswith("parent"))
    assert [s.parent.span_id for s in finished if s.name.endswith("leaf")] == [
        root.context.span_id
    ] * 3


def test_last_active_trace_id_is_per_thread_and_per_task() -> None:
    @otelfeedback.trace
    def f() -> str | None:
        return otelfeedback.get_current_trace_id()

    with capture_spans():
        main_trace = f()
        other: list[str | None] = []

        def in_thread() -> None:
            other.append(otelfeedback.get_last_active_trace_id())
            other.append(f())
            other.append(otelfeedback.get_last_active_trace_id())

        t = threading.Thread(target=in_thread)
        t.start()
        t.join()
        assert otelfeedback.get_last_active_trace_id() == main_trace
        assert other[0] is None and other[1] == other[2] != main_trace

        async def task() -> tuple[str | None, str | None]:
            return f(), otelfeedback.get_last_active_trace_id()

        async def main() -> list[tuple[str | None, str | None]]:
            return list(await asyncio.gather(task(), task()))

        results = asyncio.run(main())
        assert all(a == b for a, b in results) and results[0][0] != results[1][0]


def test_spans_join_the_apps_own_current_span_without_touching_globals() -> None:
    app_exporter = InMemorySpanExporter()
    app_provider = TracerProvider()
    app_provider.add_span_processor(SimpleSpanProcessor(app_exporter))
    app_tracer = app_provider.get_tracer("app")

    @otelfeedback.trace
    def handler() -> str:
        return "ok"

    with capture_spans() as spans:
        with app_tracer.start_as_current_span("POST /chat") as request_span:
            handler()
        ours = spans.get_finished_spans()[0]
    assert ours.parent.span_id == request_span.get_span_context().span_id
    assert ours.context.trace_id == request_span.get_span_context().trace_id
    # Our span went to our exporter only; the app's span to the app's only.
    assert [s.name for s in app_exporter.get_finished_spans()] == ["POST /chat"]


def test_tracer_provider_option_joins_the_apps_provider() -> None:
    app_exporter = InMemorySpanExporter()
    app_provider = TracerProvider()
    app_provider.add_span_processor(SimpleSpanProcessor(app_exporter))
    otelfeedback.configure(tracer_provider=app_provider)

    @otelfeedback.trace
    def f() -> None:
        pass

    f()
    assert [s.name.rsplit(".", 1)[-1] for s in app_exporter.get_finished_spans()] == ["f"]
