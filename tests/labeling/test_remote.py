"""Labeling in remote mode (``configure(store="http://...")``) works as on a file store: the
SDK's records go through ``/api/records``, its labels over OTLP, and the server's own file
store holds the same thing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import otelfeedback
from otelfeedback import semconv as sc
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.labeling import (
    create_labeling_session,
    get_label_schema,
    get_labeling_session,
    list_labeling_sessions,
)
from otelfeedback.labeling._store import SESSION_KIND
from tests.conftest import open_store
from tests.labeling.conftest import more_traces, step5_schemas
from tests.server.live import LiveServer


@pytest.fixture
def remote(store_location: Path | str) -> Iterator[tuple[LiveServer, Path | str]]:
    """A server over a store of each kind, configured as the SDK's store."""
    from otelfeedback.server import create_app

    store = store_location
    server = LiveServer(create_app(store))
    otelfeedback.configure(store=server.url, service_name="chatbot")
    yield server, store
    server.close()


def test_the_whole_flow_works_against_a_server(remote: tuple[LiveServer, Path | str]) -> None:
    server, directory = remote
    step5_schemas()
    ids = more_traces(3)
    session = create_labeling_session(
        "remote_review",
        label_schemas=["response_accuracy", "expected_response"],
        reviewers_per_item=2,
    )
    session.add_traces(otelfeedback.search_traces(max_results=None))
    session.add_traces(ids)  # idempotent
    assert session.url.startswith(server.url + "/review/")
    assert session.reviewer_url("alice").startswith(server.url + "/review/")
    session.submit_labels(
        ids[0], "alice", {"response_accuracy": "Accurate", "expected_response": "Yes."}
    )
    session.submit_labels(ids[0], "bob", {"response_accuracy": "Inaccurate"})
    session.submit_labels(ids[0], "bob", {"response_accuracy": "Accurate"})  # relabel

    assert get_labeling_session("remote_review") == session
    assert [s.name for s in list_labeling_sessions()] == ["remote_review"]
    assert get_label_schema("response_accuracy").input.options[0] == "Accurate"  # type: ignore[union-attr]
    assert len(session.items()) == 3
    progress = session.progress()
    assert (progress.total, progress.done) == (3, 1)
    assert session.agreement()["response_accuracy"].percent_agreement == 1.0

    trace = otelfeedback.get_trace(ids[0])
    labels = sorted(
        (a.source.source_id, a.value, a.valid)
        for a in trace.assessments
        if a.name == "response_accuracy"
    )
    assert labels == [
        ("alice", "Accurate", True),
        ("bob", "Accurate", True),
        ("bob", "Inaccurate", False),
    ]
    assert {t.info.trace_id for t in otelfeedback.search_traces(labeling_session=session)} == set(
        ids
    )
    # the server's store holds the same session and labels
    local = open_store(directory)
    assert [r.data["name"] for r in local.list_records(SESSION_KIND)] == ["remote_review"]
    local_labels = [
        a
        for a in local.get_trace(ids[0]).assessments
        if (a.metadata or {}).get(sc.LABELING_SESSION_ID) == session.labeling_session_id
    ]
    assert len(local_labels) == 4
    with pytest.raises(InvalidArgumentError) as info:
        session.submit_labels(ids[1], "alice", {"response_accuracy": "Great"})
    assert info.value.argument == "labels.response_accuracy"
