"""@trace on every function shape: spans, inputs, outputs, nesting and errors."""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otelfeedback
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.testing import CapturedSpans, capture_spans
from tests.samplers import SeenBySampler


def by_name(spans: CapturedSpans) -> dict[str, Any]:
    return {s.name: s for s in spans.get_finished_spans()}


def test_sync_function_records_bound_inputs_with_defaults_and_output() -> None:
    @otelfeedback.trace
    def add(x: int, y: int = 2, *, scale: int = 1) -> int:
        return (x + y) * scale

    with capture_spans() as spans:
        assert add(1, scale=3) == 9
        span = by_name(spans)[
            "test_sync_function_records_bound_inputs_with_defaults_and_output.<locals>.add"
        ]
    assert json.loads(span.attributes["input.value"]) == {"x": 1, "y": 2, "scale": 3}
    assert span.attributes["input.mime_type"] == "application/json"
    assert span.attributes["output.value"] == "9"
    assert span.attributes["otelfeedback.span_type"] == "UNKNOWN"
    assert span.attributes["openinference.span.kind"] == "CHAIN"


def test_string_output_is_plain_text_and_name_option_is_used() -> None:
    @otelfeedback.trace(name="answer", span_type="llm")
    def answer(q: str) -> str:
        return "hello " + q

    with capture_spans() as spans:
        answer("bob")
        span = by_name(spans)["answer"]
    assert span.attributes["output.value"] == "hello bob"
    assert span.attributes["output.mime_type"] == "text/plain"
    assert span.attributes["otelfeedback.span_type"] == "LLM"
    assert span.attributes["openinference.span.kind"] == "LLM"


def test_unknown_span_type_fails_at_decoration_listing_valid_types() -> None:
    with pytest.raises(InvalidArgumentError, match="RETRIEVER") as info:
        otelfeedback.trace(span_type="RETRIEVERS")
    assert "RETRIEVERS" in str(info.value)
    assert info.value.argument == "span_type"
    assert isinstance(info.value, ValueError)  # what callers caught before


def test_nested_calls_form_a_tree_in_one_trace() -> None:
    @otelfeedback.trace(span_type="RETRIEVER")
    def retrieve(q: str) -> list[str]:
        return [q]

    @otelfeedback.trace(span_type="AGENT")
    def agent(q: str) -> str:
        return retrieve(q)[0] + retrieve(q)[0]

    with capture_spans() as spans:
        agent("x")
        finished = spans.get_finished_spans()
    root = next(s for s in finished if s.name.endswith("agent"))
    children = [s for s in finished if s.name.endswith("retrieve")]
    assert len(children) == 2
    assert {c.parent.span_id for c in children} == {root.context.span_id}
    assert {s.context.trace_id for s in finished} == {root.context.trace_id}
    assert root.parent is None
    assert otelfeedback.get_last_active_trace_id() == format(root.context.trace_id, "032x")


def test_user_exception_propagates_unchanged_and_is_recorded() -> None:
    class Boom(Exception):
        pass

    error = Boom("bad input")

    @otelfeedback.trace
    def fails() -> None:
        raise error

    with capture_spans() as spans:
        with pytest.raises(Boom) as info:
            fails()
        span = spans.get_finished_spans()[0]
    assert info.value is error
    # The traceback still ends in the user's frame, not ours.
    assert info.tb is not None
    frames = []
    tb = info.tb
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert frames[-1] == "fails"
    assert span.status.status_code.name == "ERROR"
    assert "Boom: bad input" in span.status.description
    event = span.events[0]
    assert event.name == "exception"
    assert event.attributes["exception.type"].endswith("Boom")
    assert "raise error" in event.attributes["exception.stacktrace"]


def test_async_function_is_traced_and_awaited() -> None:
    @otelfeedback.trace
    async def fetch(n: int) -> dict[str, int]:
        await asyncio.sleep(0)
        return {"n": n}

    assert inspect.iscoroutinefunction(fetch)
    with capture_spans() as spans:
        assert asyncio.run(fetch(3)) == {"n": 3}
        span = spans.get_finished_spans()[0]
    assert json.loads(span.attributes["output.value"]) == {"n": 3}


def test_async_exception_propagates_unchanged() -> None:
    @otelfeedback.trace
    async def fails() -> None:
        raise KeyError("k")

    with capture_spans() as spans:
        with pytest.raises(KeyError):
            asyncio.run(fails())
        assert spans.get_finished_spans()[0].status.status_code.name == "ERROR"


def test_generator_yields_through_and_records_items_and_reducer() -> None:
    @otelfeedback.trace
    def count(n: int) -> Iterator[int]:
        yield from range(n)

    @otelfeedback.trace(output_reducer=lambda items: "".join(items))
    def tokens() -> Iterator[str]:
        yield "a"
        yield "b"

    with capture_spans() as spans:
        assert list(count(3)) == [0, 1, 2]
        assert list(tokens()) == ["a", "b"]
        spans_by_name = {s.name.rsplit(".", 1)[-1]: s for s in spans.get_finished_spans()}
    assert spans_by_name["count"].attributes["output.value"] == "[0, 1, 2]"
    assert spans_by_name["tokens"].attributes["output.value"] == "ab"


def test_generator_span_is_current_only_inside_the_generator_body() -> None:
    seen: list[str | None] = []

    @otelfeedback.trace
    def gen() -> Iterator[int]:
        seen.append(otelfeedback.get_current_trace_id())
        yield 1
        seen.append(otelfeedback.get_current_trace_id())

    with capture_spans():
        for _ in gen():
            seen.append(otelfeedback.get_current_trace_id())
    assert seen[0] is not None and seen[2] == seen[0]
    assert seen[1] is None  # the consumer's code runs outside the generator's span


def test_generator_send_throw_and_early_close() -> None:
    @otelfeedback.trace
    def echo() -> Iterator[Any]:
        received = None
        while True:
            try:
                received = yield received
            except ValueError:
                received = "recovered"

    with capture_spans() as spans:
        g = echo()
        assert next(g) is None
        assert g.send("x") == "x"
        assert g.throw(ValueError("v")) == "recovered"
        g.close()
        span = spans.get_finished_spans()[0]
    assert span.status.status_code.name != "ERROR"
    assert json.loads(span.attributes["output.value"]) == [None, "x", "recovered"]


def test_generator_error_mid_stream_is_recorded_and_raised() -> None:
    @otelfeedback.trace
    def broken() -> Iterator[int]:
        yield 1
        raise RuntimeError("mid-stream")

    with capture_spans() as spans:
        g = broken()
        assert next(g) == 1
        with pytest.raises(RuntimeError, match="mid-stream"):
            next(g)
        assert spans.get_finished_spans()[0].status.status_code.name == "ERROR"


def test_async_generator_is_traced() -> None:
    @otelfeedback.trace(span_type="LLM")
    async def stream(n: int) -> AsyncIterator[int]:
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    async def consume() -> list[int]:
        return [i async for i in stream(3)]

    with capture_spans() as spans:
        assert asyncio.run(consume()) == [0, 1, 2]
        span = spans.get_finished_spans()[0]
    assert span.attributes["output.value"] == "[0, 1, 2]"


def test_async_generator_error_is_recorded() -> None:
    @otelfeedback.trace
    async def broken() -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("x")

    async def consume() -> None:
        async for _ in broken():
            pass

    with capture_spans() as spans:
        with pytest.raises(RuntimeError):
            asyncio.run(consume())
        assert spans.get_finished_spans()[0].status.status_code.name == "ERROR"


class Bot:
    prefix = ">"

    @otelfeedback.trace
    def reply(self, text: str) -> str:
        return self.prefix + text

    @otelfeedback.trace
    @classmethod
    def make(cls, name: str) -> str:
        return cls.prefix + name

    @classmethod
    @otelfeedback.trace
    def make2(cls, name: str) -> str:
        return cls.prefix + name

    @otelfeedback.trace
    @staticmethod
    def util(a: int) -> int:
        return a * 2


def test_methods_classmethods_and_staticmethods_drop_self_and_cls() -> None:
    with capture_spans() as spans:
        assert Bot().reply("hi") == ">hi"
        assert Bot.make("a") == ">a"
        assert Bot.make2("b") == ">b"
        assert Bot.util(2) == 4
        inputs = [json.loads(s.attributes["input.value"]) for s in spans.get_finished_spans()]
    assert inputs == [{"text": "hi"}, {"name": "a"}, {"name": "b"}, {"a": 2}]


def test_varargs_and_kwargs_are_bound_readably() -> None:
    @otelfeedback.trace
    def f(a: int, *rest: int, **options: Any) -> None:
        return None

    with capture_spans() as spans:
        f(1, 2, 3, mode="fast")
        span = spans.get_finished_spans()[0]
    assert json.loads(span.attributes["input.value"]) == {"a": 1, "rest": [2, 3], "mode": "fast"}


def test_decorated_function_keeps_name_doc_and_signature() -> None:
    @otelfeedback.trace
    def documented(q: str, k: int = 3) -> str:
        """Docstring."""
        return q

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docstring."
    assert str(inspect.signature(documented)) == "(q: 'str', k: 'int' = 3) -> 'str'"


def test_capture_inputs_and_outputs_can_be_turned_off() -> None:
    @otelfeedback.trace(capture_inputs=False, capture_outputs=False)
    def secret(password: str) -> str:
        return password

    with capture_spans() as spans:
        secret("hunter2")
        attrs = spans.get_finished_spans()[0].attributes
    assert "input.value" not in attrs and "output.value" not in attrs


def test_capture_content_setting_off_records_no_values() -> None:
    @otelfeedback.trace
    def f(x: str) -> str:
        return x

    with capture_spans(capture_content=False) as spans:
        f("private")
        attrs = spans.get_finished_spans()[0].attributes
    assert "input.value" not in attrs and "output.value" not in attrs
    assert attrs["otelfeedback.span_type"] == "UNKNOWN"


def test_static_attributes_are_set() -> None:
    @otelfeedback.trace(attributes={"team": "search", "weights": [1, 2], "cfg": {"a": 1}})
    def f() -> None:
        pass

    with capture_spans() as spans:
        f()
        attrs = spans.get_finished_spans()[0].attributes
    assert attrs["team"] == "search"
    assert tuple(attrs["weights"]) == (1, 2)
    assert json.loads(attrs["cfg"]) == {"a": 1}


def test_decorating_a_non_callable_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="needs a function"):
        otelfeedback.trace(42)  # type: ignore[call-overload]


def test_recursion_depth_is_not_an_issue_for_deep_nesting() -> None:
    @otelfeedback.trace
    def depth(n: int) -> int:
        return 0 if n == 0 else 1 + depth(n - 1)

    with capture_spans() as spans:
        assert depth(50) == 50
        assert len(spans.get_finished_spans()) == 51
    assert sys.getrecursionlimit() >= 1000


def test_a_sampler_sees_the_span_type_and_limits_cut_inputs_and_outputs() -> None:
    """A span starts with its type, the decorator's attributes and the session/user in
    force (what a sampler decides on); inputs and outputs come after, under the app's
    attribute value length limit."""
    sampler = SeenBySampler()
    provider = TracerProvider(sampler=sampler, span_limits=SpanLimits(max_attribute_length=8))
    exporter = InMemorySpanExporter()
    otelfeedback.configure(store="", tracer_provider=provider, exporters=[exporter])
    try:

        @otelfeedback.trace(span_type="RETRIEVER", attributes={"index": "docs"})
        def retrieve(query: str) -> str:
            return "a long answer"

        with otelfeedback.using_user("u-7"):
            retrieve("a long question")
        otelfeedback.flush()
    finally:
        otelfeedback.configure(store="")
    (started,) = sampler.seen
    assert started["otelfeedback.span_type"] == "RETRIEVER"
    assert started["index"] == "docs" and started["user.id"] == "u-7"
    assert "input.value" not in started
    (span,) = exporter.get_finished_spans()
    assert span.attributes["input.value"] == '{"query"'  # 8 characters: the app's limit
    assert span.attributes["output.value"] == "a long a"
