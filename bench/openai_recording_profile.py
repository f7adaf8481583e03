"""Where one plain chat call's recording goes, part by part (docs/openai.md, "Overhead").

The benchmark's plain chat call (bench/openai_overhead.py's messages and the fake server's
answer) is made once against FakeOpenAIServer (in this process) to keep its
request options, its HTTP response (as the client's ``_process_response`` gets it, body
read) and its response; then each part of the recording is replayed ``--calls`` times on its
own: the whole recording (the wrapper's start, its ``_process_response`` hook noting the
HTTP response, the response, the end, the export through our batch processor to a
discarding exporter), a bare span through the same pipeline, and the pieces. Before each
part ``os.getppid()`` is called, a marker on which callgrind can cut its profile.

Run plainly it prints µs per call of each part, in a hot loop: for finding costs (the
benchmark, bench/openai_overhead.py, gives the numbers). With ``--callgrind`` it runs itself
under valgrind's callgrind and prints thousands of CPU instructions per call of each part,
which do not depend on the machine's load (about a minute).

    python bench/openai_recording_profile.py [--calls 300] [--profile lean] [--callgrind]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from callgrind import run_in_parts
from openai_overhead import ANSWER, MESSAGES
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def recorded_call() -> tuple[Any, tuple[Any, ...], dict[str, Any], Any, Any]:
    """One real plain chat call: the client, the ``request`` arguments, the response and
    the HTTP response (its body read, as after ``_process_response``)."""
    from openai import OpenAI
    from openai._base_client import SyncAPIClient

    from otelfeedback.testing import FakeOpenAIServer, RecordedRequest, Reply

    kept: list[tuple[Any, tuple[Any, ...], dict[str, Any], Any]] = []
    http: list[Any] = []
    original = SyncAPIClient.request
    original_process = SyncAPIClient._process_response

    def keep(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        kept.append((self, (self, *args), dict(kwargs), result))
        return result

    def keep_http(self: Any, **kwargs: Any) -> Any:
        http.append(kwargs["response"])
        return original_process(self, **kwargs)

    def answer(request: RecordedRequest) -> Reply:
        return Reply(ANSWER)

    SyncAPIClient.request = keep  # type: ignore[method-assign]
    SyncAPIClient._process_response = keep_http  # type: ignore[method-assign]
    try:
        with FakeOpenAIServer(default=answer) as server:
            client = OpenAI(base_url=server.base_url, api_key="bench", max_retries=0)
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
    finally:
        SyncAPIClient.request = original  # type: ignore[method-assign]
        SyncAPIClient._process_response = original_process  # type: ignore[method-assign]
    return (*kept[0], http[0])


def parts(profile: str) -> dict[str, Callable[[], Any]]:
    """The parts to replay, by name."""
    from opentelemetry.trace import SpanKind

    import otelfeedback
    from otelfeedback.export.encodable import encodable_span
    from otelfeedback.export.span_size import estimated_span_bytes
    from otelfeedback.instrumentation.openai import endpoints, wire, wrapper
    from otelfeedback.tracing import _state
    from otelfeedback.tracing.sdk_attributes import add_attributes

    otelfeedback.configure(store="", exporters=[Discard()])
    client, args, kwargs, response, http = recorded_call()
    args = args[1:]  # the wrapper gets the bound method's arguments
    otelfeedback.instrument_openai(attributes=profile)
    state = _state.current()
    tracer = state.tracer
    content = wrapper._content(state)
    body = (args[1] if len(args) > 1 else kwargs["options"]).json_data
    endpoint = endpoints.CHAT

    started: dict[str, dict[str, Any]] = {}
    original_begin = wrapper.begin

    def keep_start(*a: Any, **kw: Any) -> Any:  # the attributes the wrapper starts the span with
        started["head"], started["rest"] = dict(a[2]), dict(a[4] or {})
        return original_begin(*a, **kw)

    def processed(**kw: Any) -> Any:  # the SDK's _process_response, already done
        return response

    process = {"response": http, "stream": False}

    def whole() -> None:
        recording = wrapper._begin(client, args, kwargs)
        assert recording is not None
        token = wrapper._CURRENT.set(recording)  # as request_sync does around the call
        wrapper.process_response_sync(processed, client, (), process)
        wrapper._CURRENT.reset(token)
        recording.succeed(response, False, False)

    wrapper.begin = keep_start  # type: ignore[assignment]
    try:
        whole()
    finally:
        wrapper.begin = original_begin  # type: ignore[assignment]
    head, rest = started["head"], started["rest"]
    sent, received = wire.body_text(http.request), wire.body_text(http)
    assert sent is not None and received is not None, "the bodies are not JSON text"

    def io(which: str, value: Any) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        content.add_io(attrs, which, value)
        return attrs

    answer = {  # what the span gets at its end
        **endpoint.request(body, content),
        **endpoint.response(response, content),
        **io("output", received),
        **io("input", sent),
    }
    everything = {**head, **rest}
    finished = tracer.start_span("chat", attributes=everything)
    finished.set_attributes(answer)
    finished.end()

    def bare_span() -> None:
        tracer.start_span("chat", kind=SpanKind.CLIENT).end()

    return {
        "whole recording (wrapper, attributes, span, export)": whole,
        "bare span through the same pipeline": bare_span,
        "span started, not ended, no attributes": lambda: tracer.start_span("chat"),
        "  + all attributes through set_attributes": lambda: tracer.start_span(
            "chat", attributes=everything
        ).set_attributes(answer),
        "  + 5 at the start, the rest by add_attributes": lambda: (
            span := tracer.start_span("chat", attributes=head),
            add_attributes(span, rest),
            add_attributes(span, answer),
        ),
        "request attributes": lambda: endpoint.request(body, content),
        "input.value (the bytes sent)": lambda: io("input", wire.body_text(http.request)),
        "input.value by our JSON (the fallback)": lambda: io("input", body),
        "response attributes (no output.value)": lambda: endpoint.response(response, content),
        "output.value (the bytes received)": lambda: io("output", wire.body_text(http)),
        "output.value by pydantic (the fallback)": lambda: io("output", response),
        "pipeline: size estimate (calling thread)": lambda: estimated_span_bytes(finished),
        "pipeline: value check (export worker)": lambda: encodable_span(finished),
    }


def replay(calls: int, profile: str) -> list[tuple[str, float]]:
    """Each part ``calls`` times after a warm-up, each after a ``getppid`` marker; µs per
    call of each part."""
    import otelfeedback

    found = parts(profile)
    for fn in found.values():
        for _ in range(30):
            fn()
    otelfeedback.flush()
    timings = []
    for name, fn in found.items():
        os.getppid()
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        otelfeedback.flush()  # the export worker's share lands in this part
        timings.append((name, (time.perf_counter_ns() - start) / calls / 1e3))
    os.getppid()
    return timings


def under_callgrind(calls: int, profile: str) -> None:
    printed, parts = run_in_parts([__file__, "--calls", str(calls), "--profile", profile])
    names = [line[10:] for line in printed.splitlines()[1:]]  # as printed
    print(f"thousand CPU instructions per call ({profile}, {calls} calls per part)")
    for name, counted in zip(names, parts[1:], strict=False):  # part 0 is the setup
        print(f"{counted['Ir'] / calls / 1e3:>8.0f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="replays per part")
    parser.add_argument("--profile", default="lean", help="lean or full")
    parser.add_argument("--callgrind", action="store_true", help="count instructions")
    args = parser.parse_args()
    if args.callgrind:
        under_callgrind(args.calls, args.profile)
        return
    timings = replay(args.calls, args.profile)
    print(f"µs per call in a hot loop ({args.profile}, {args.calls} calls per part)")
    for name, us in timings:
        print(f"{us:>8.1f}  {name}")


if __name__ == "__main__":
    main()
