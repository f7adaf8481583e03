"""Instrumentation is explicit, idempotent and reversible, for all clients or one."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from openai import OpenAI
from openai._base_client import AsyncAPIClient, SyncAPIClient

import otelfeedback
import otelfeedback.openai
from otelfeedback.errors import MissingExtraError
from otelfeedback.testing import CapturedSpans, FakeOpenAIServer
from tests.instrumentation.conftest import API_KEY, MESSAGES

ORIGINALS = {
    (cls, name): cls.__dict__[name]
    for cls in (SyncAPIClient, AsyncAPIClient)
    for name in ("request", "_sleep_for_retry", "_process_response")
    if name in cls.__dict__  # _sleep_for_retry is newer than openai 1.40
}


def _call(client: OpenAI) -> None:
    client.chat.completions.create(model="m", messages=MESSAGES)


def _restored() -> bool:
    return all(cls.__dict__[name] is fn for (cls, name), fn in ORIGINALS.items())


def test_importing_otelfeedback_neither_imports_nor_patches_openai() -> None:
    code = (
        "import sys, otelfeedback, otelfeedback.instrumentation.openai\n"
        "assert 'openai' not in sys.modules, 'openai imported'\n"
        "import openai._base_client as b\n"
        "assert not hasattr(b.SyncAPIClient.request, '__wrapped__'), 'patched at import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _shape(fn: object) -> tuple[str, str, bool]:
    return (
        getattr(fn, "__qualname__", ""),
        str(inspect.signature(fn)),  # type: ignore[arg-type]
        inspect.iscoroutinefunction(fn),
    )


def test_patched_methods_keep_their_name_signature_and_kind() -> None:
    before = {key: _shape(fn) for key, fn in ORIGINALS.items()}
    otelfeedback.instrument_openai()
    after = {(cls, name): _shape(cls.__dict__[name]) for cls, name in ORIGINALS}
    assert not _restored()
    assert after == before
    assert inspect.iscoroutinefunction(AsyncAPIClient.__dict__["request"])


def test_a_wrapper_another_library_adds_later_keeps_working_after_uninstrument(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    ours = SyncAPIClient.__dict__["request"]
    seen: list[str] = []

    def theirs(self: SyncAPIClient, *args: object, **kwargs: object) -> object:
        seen.append("theirs")
        return ours(self, *args, **kwargs)

    SyncAPIClient.request = theirs  # type: ignore[method-assign]
    try:
        _call(client)
        otelfeedback.uninstrument_openai()
        assert SyncAPIClient.__dict__["request"] is theirs  # theirs is left in place
        _call(client)  # ours, under theirs, now passes the call through
    finally:
        SyncAPIClient.request = ORIGINALS[(SyncAPIClient, "request")]  # type: ignore[method-assign]
    assert seen == ["theirs", "theirs"]
    assert len(spans.get_finished_spans()) == 1


def test_uninstrumented_clients_make_no_spans(client: OpenAI, spans: CapturedSpans) -> None:
    _call(client)
    assert spans.get_finished_spans() == ()


def test_instrumenting_twice_makes_one_span_per_call(client: OpenAI, spans: CapturedSpans) -> None:
    otelfeedback.instrument_openai()
    otelfeedback.instrument_openai()
    otelfeedback.openai.autolog()
    _call(client)
    assert len(spans.get_finished_spans()) == 1


def test_uninstrument_restores_the_sdk_methods_and_stops_spans(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    assert not _restored()
    otelfeedback.uninstrument_openai()
    otelfeedback.uninstrument_openai()  # twice is fine
    assert _restored()
    _call(client)
    assert spans.get_finished_spans() == ()
    otelfeedback.instrument_openai()  # and it can come back
    _call(client)
    assert len(spans.get_finished_spans()) == 1


def test_the_handle_undoes_and_works_as_a_context_manager(
    client: OpenAI, spans: CapturedSpans
) -> None:
    with otelfeedback.instrument_openai():
        _call(client)
    assert _restored()
    _call(client)
    handle = otelfeedback.instrument_openai()
    handle.undo()
    handle.undo()
    _call(client)
    assert len(spans.get_finished_spans()) == 1


def test_autolog_disable_uninstruments(client: OpenAI, spans: CapturedSpans) -> None:
    assert otelfeedback.openai.autolog() is not None
    assert otelfeedback.openai.autolog(disable=True) is None
    assert _restored()
    _call(client)
    assert spans.get_finished_spans() == ()


def test_one_client_is_instrumented_alone_with_its_copies(
    server: FakeOpenAIServer, client: OpenAI, spans: CapturedSpans
) -> None:
    with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0) as other:
        handle = otelfeedback.instrument_openai(client)
        _call(client)
        _call(other)
        _call(client.with_options(timeout=5))
        assert len(spans.get_finished_spans()) == 2
        handle.undo()
        assert _restored()
        _call(client)
        assert len(spans.get_finished_spans()) == 2


def test_undoing_one_client_keeps_global_instrumentation(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    otelfeedback.instrument_openai(client).undo()
    _call(client)
    assert len(spans.get_finished_spans()) == 1


def test_without_openai_installed_the_error_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'otelfeedback\[openai\]'"):
        otelfeedback.instrument_openai()


def test_suppressed_instrumentation_context_makes_no_span(
    client: OpenAI, spans: CapturedSpans
) -> None:
    from opentelemetry import context
    from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY

    otelfeedback.instrument_openai()
    token = context.attach(context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        _call(client)
    finally:
        context.detach(token)
    assert spans.get_finished_spans() == ()


def test_session_and_user_in_context_land_on_the_llm_span(
    client: OpenAI, spans: CapturedSpans
) -> None:
    otelfeedback.instrument_openai()
    with otelfeedback.using_session("s-1"), otelfeedback.using_user("u-1"):
        _call(client)
    (span,) = spans.get_finished_spans()
    assert span.attributes["session.id"] == "s-1"
    assert span.attributes["user.id"] == "u-1"
    assert otelfeedback.get_last_active_trace_id() == format(span.context.trace_id, "032x")
