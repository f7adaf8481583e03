"""The remote store (``otelfeedback.store.remote``) against a live server behaves like the
local file store it serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback.assessments import AssessmentSource, AssessmentSourceType
from otelfeedback.errors import (
    ConfigurationError,
    FilterSyntaxError,
    InvalidArgumentError,
    NotFoundError,
    OtelFeedbackError,
)
from otelfeedback.server import create_app
from otelfeedback.store.remote import RemoteStore
from tests.conftest import open_store
from tests.server.conftest import Seeded
from tests.server.live import LiveServer, free_port


def test_reads_match_the_local_store(server: LiveServer, seeded: Seeded) -> None:
    remote, local = RemoteStore(server.url), open_store(seeded.store)
    assert remote.get_trace(seeded.trace_id).to_dict() == local.get_trace(seeded.trace_id).to_dict()
    query = "feedback.user_feedback = 'false'"
    assert [t.to_dict() for t in remote.search_traces(query)] == [
        t.to_dict() for t in local.search_traces(query)
    ]
    assert len(remote.search_traces(None, None, include_spans=False)) == 2
    first = remote.search_traces(max_results=1, order_by="timestamp_ms ASC")
    assert first.token is not None
    second = remote.search_traces(
        max_results=1, order_by="timestamp_ms ASC", page_token=first.token
    )
    # (both traces may start in the same millisecond: the order between them is not asserted)
    assert {first[0].trace_id, second[0].trace_id} == {seeded.trace_id, seeded.script_trace_id}
    assert remote.find_root_span_id(seeded.trace_id) == seeded.root_span_id
    assert remote.find_root_span_id("ab" * 16) is None
    assert remote.has_span(seeded.trace_id, seeded.retriever_span_id)
    assert not remote.has_span(seeded.trace_id, "12" * 8)


def test_errors_are_the_local_store_errors(server: LiveServer) -> None:
    remote = RemoteStore(server.url)
    with pytest.raises(NotFoundError):
        remote.get_trace("ab" * 16)
    with pytest.raises(FilterSyntaxError) as info:
        remote.search_traces("feedback.x === 'y'")
    assert info.value.position > 0
    with pytest.raises(InvalidArgumentError, match="order_by"):
        remote.search_traces(order_by="nope")
    with pytest.raises(InvalidArgumentError) as bad:
        remote.get_trace("nope")
    assert bad.value.argument == "trace_id"


def test_writes_go_through_the_server(server: LiveServer, seeded: Seeded) -> None:
    remote = RemoteStore(server.url)
    created = remote.log_assessment(
        seeded.trace_id,
        "feedback",
        "accuracy_score",
        0.5,
        rationale="half right",
        source=AssessmentSource(AssessmentSourceType.HUMAN, "alice"),
        span_id=seeded.retriever_span_id,
    )
    assert created.assessment_id and created.span_id == seeded.retriever_span_id
    assert remote.get_assessment(seeded.trace_id, created.assessment_id) == created
    updated = remote.update_assessment(seeded.trace_id, created.assessment_id, value=0.6)
    assert updated.value == 0.6
    new = remote.override_feedback(seeded.trace_id, created.assessment_id, 1.0, "all right")
    assert new.overrides == created.assessment_id
    trace = remote.get_trace(seeded.trace_id)
    assert {
        a.assessment_id: a.valid
        for a in trace.search_assessments("accuracy_score", valid_only=False)
    } == {
        created.assessment_id: False,
        new.assessment_id: True,
    }
    remote.delete_assessment(seeded.trace_id, new.assessment_id)
    assert remote.get_assessment(seeded.trace_id, created.assessment_id).valid
    # the local SDK sees the same state
    assert otelfeedback.get_assessment(seeded.trace_id, created.assessment_id).value == 0.6
    with pytest.raises(InvalidArgumentError) as bad:
        remote.log_assessment(seeded.trace_id, "expectation", "x", None)
    assert bad.value.argument == "value"


def test_token_and_unreachable_server(seeded: Seeded) -> None:
    live = LiveServer(create_app(seeded.store, token="t0ken"))
    try:
        with pytest.raises(ConfigurationError, match="token"):
            RemoteStore(live.url).get_trace(seeded.trace_id)
        assert RemoteStore(live.url, token="t0ken").get_trace(seeded.trace_id).trace_id
    finally:
        live.close()
    with pytest.raises(OtelFeedbackError, match="cannot reach"):
        RemoteStore(f"http://127.0.0.1:{free_port()}", timeout=2).get_trace(seeded.trace_id)
    with pytest.raises(ConfigurationError):
        RemoteStore("/not/a/url")


@pytest.fixture
def remote_server(store_location: Path | str) -> Iterator[LiveServer]:
    live = LiveServer(create_app(store_location))
    yield live
    otelfeedback.reset()  # flush to the server while it is still up
    live.close()


def test_configure_with_a_server_url_is_remote_mode(remote_server: LiveServer) -> None:
    otelfeedback.configure(store=remote_server.url)

    @otelfeedback.trace
    def remote_app(question: str) -> str:
        return "answer"

    remote_app("q")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    otelfeedback.log_feedback(trace_id, "user_feedback", False, rationale="no")
    trace = otelfeedback.get_trace(trace_id)
    assert trace.search_assessments("user_feedback")[0].value is False
    assert otelfeedback.search_traces("feedback.user_feedback = 'false'")[0].trace_id == trace_id


def test_remote_mode_overrides_updates_and_deletes_like_the_local_store(
    remote_server: LiveServer,
) -> None:
    otelfeedback.configure(store=remote_server.url)

    @otelfeedback.trace
    def remote_app(question: str) -> str:
        return "answer"

    remote_app("q")
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    first = otelfeedback.log_feedback(trace_id, "correct", False, rationale="judge says no")
    assert first.assessment_id is not None
    fixed = otelfeedback.override_feedback(
        trace_id, first.assessment_id, True, rationale="a human checked it"
    )
    assert fixed.overrides == first.assessment_id
    assert otelfeedback.get_assessment(trace_id, first.assessment_id).valid is False
    otelfeedback.update_assessment(trace_id, fixed.assessment_id or "", rationale="checked twice")
    assert otelfeedback.get_assessment(trace_id, fixed.assessment_id or "").rationale == (
        "checked twice"
    )
    otelfeedback.delete_assessment(trace_id, fixed.assessment_id or "")
    # Deleting the override makes the original current again, as in a local store.
    assert otelfeedback.get_assessment(trace_id, first.assessment_id).valid is True
    with pytest.raises(NotFoundError):
        otelfeedback.log_feedback("f" * 32, "x", True)


def test_existing_trace_ids_match_the_local_store(server: LiveServer, seeded: Seeded) -> None:
    remote, local = RemoteStore(server.url), open_store(seeded.store)
    asked = [seeded.trace_id, "ab" * 16, seeded.script_trace_id] + [f"{n:032x}" for n in range(450)]
    expected = {seeded.trace_id, seeded.script_trace_id}
    assert local.existing_trace_ids(asked) == remote.existing_trace_ids(asked) == expected
    assert local.existing_trace_ids([]) == remote.existing_trace_ids([]) == set()
