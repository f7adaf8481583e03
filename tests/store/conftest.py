from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STORE_KINDS, open_store
from tests.store.otlp_fixtures import append, io_attrs, line, sid, span, tid

__all__ = ["Backend", "open_store"]


class Backend:
    """One store of each kind, filled the way its writers fill it: OTLP/JSON lines appended
    to the file store's segments (the SDK's exporter, the server's receiver) or stored
    through ``SqlStore.append_line`` (the server's receiver on PostgreSQL)."""

    def __init__(self, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self.directory = tmp_path
        self.location: str | Path = tmp_path
        self._store: Any = None
        self._opened: list[Any] = []
        if kind == "postgres":
            self.location = request.getfixturevalue("postgres_url")

    def write(self, text: str, segment: int = 1) -> None:
        """Append OTLP/JSON lines (``otlp_fixtures.line``)."""
        if self.kind == "file":
            append(self.directory, text, segment)
            return
        for raw in text.splitlines():
            if raw.strip():
                self.store().append_line(raw.encode())

    def store(self) -> Any:
        """The store (opened once; ``open()`` gives another handle on the same data)."""
        if self._store is None:
            self._store = self.open()
        return self._store

    def open(self) -> Any:
        """Another handle on the same store (closed with this one)."""
        opened = open_store(self.location)
        self._opened.append(opened)
        return opened

    def close(self) -> None:
        for opened in self._opened:
            opened.close()


@pytest.fixture(params=STORE_KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A file store and a PostgreSQL store (the test runs once with each)."""
    made = Backend(request.param, tmp_path, request)
    yield made
    made.close()


def _record(
    aid: str,
    trace: str,
    name: str,
    value: object,
    kind: str = "feedback",
    operation: str = "create",
    overrides: str | None = None,
    valid_ms: int = 0,
) -> dict:
    attrs = {
        "otelfeedback.assessment.id": aid,
        "otelfeedback.assessment.trace_id": trace,
        "otelfeedback.assessment.name": name,
        "otelfeedback.assessment.kind": kind,
        "otelfeedback.assessment.value": json.dumps(value),
        "otelfeedback.assessment.source_type": "HUMAN",
        "otelfeedback.assessment.source_id": "u1",
        "otelfeedback.assessment.create_time_ms": valid_ms,
        "otelfeedback.assessment.operation": operation,
    }
    if overrides:
        attrs["otelfeedback.assessment.overrides"] = overrides
    return attrs


def carrier(n: int, trace: str, target: str, attrs: dict, start_ms: float = 1000) -> dict:
    return span(
        trace,
        sid(0xC000 + n),
        "otelfeedback.assessment",
        parent=target,
        start_ms=start_ms,
        duration_ms=0,
        attrs=attrs,
        links=[{"traceId": trace, "spanId": target}],
    )


@pytest.fixture
def sample_store(backend: Backend) -> Iterator[Any]:
    """Five traces with known shapes (see the filter table in test_filters.py), in each
    kind of store."""
    write_sample_store(backend.directory, backend.write)
    yield backend.store()


def write_sample_store(path: Path, write: Callable[[str], None] | None = None) -> None:
    """Write the five traces of ``sample_store`` into the store directory ``path`` (or
    through ``write``, one OTLP/JSON line at a time)."""
    put: Callable[[str], None] = write or (lambda text: append(path, text) and None)
    t = [tid(i) for i in range(1, 6)]
    put(
        line(
            [
                span(
                    t[0],
                    sid(1),
                    "chat",
                    start_ms=0,
                    duration_ms=100,
                    attrs=io_attrs(
                        "CHAIN",
                        {"question": "How do refunds work?"},
                        "Refunds take 5 days",
                        **{
                            "otelfeedback.trace.tags": '{"env": "prod", "version": "3"}',
                            "metadata": '{"tier": "gold"}',
                            "session.id": "s1",
                        },
                    ),
                ),
                span(
                    t[0],
                    sid(2),
                    "retrieve",
                    parent=sid(1),
                    start_ms=1,
                    duration_ms=20,
                    attrs=io_attrs("RETRIEVER", "refunds", ["doc1"], **{"retriever.k": 5}),
                ),
                span(
                    t[0],
                    sid(3),
                    "llm",
                    parent=sid(1),
                    start_ms=30,
                    duration_ms=60,
                    attrs=io_attrs(
                        "LLM",
                        None,
                        None,
                        **{
                            "gen_ai.usage.input_tokens": 100,
                            "gen_ai.usage.output_tokens": 20,
                            "gen_ai.request.model": "gpt-4o-mini",
                        },
                    ),
                ),
            ]
        ),
    )
    put(
        line(
            [
                span(
                    t[1],
                    sid(4),
                    "chat",
                    start_ms=1000,
                    duration_ms=900,
                    status=2,
                    attrs=io_attrs(
                        "CHAIN",
                        {"question": "Shipping to Mars?"},
                        "error",
                        **{
                            "otelfeedback.trace.tags": '{"env": "dev"}',
                            "metadata": '{"tier": "free"}',
                        },
                    ),
                ),
                span(
                    t[1],
                    sid(5),
                    "search_tool",
                    parent=sid(4),
                    start_ms=1001,
                    duration_ms=800,
                    attrs=io_attrs("TOOL", "mars", None),
                ),
            ],
            service="other",
        ),
    )
    put(
        line(
            [
                span(
                    t[2],
                    sid(6),
                    "summarize",
                    start_ms=2000,
                    duration_ms=50,
                    attrs=io_attrs(
                        "LLM",
                        "Summarize THIS text",
                        "short",
                        **{"gen_ai.usage.input_tokens": 7, "gen_ai.usage.output_tokens": 3},
                    ),
                ),
                span(
                    t[3],
                    sid(7),
                    "chat",
                    start_ms=3000,
                    duration_ms=300,
                    attrs=io_attrs(
                        "CHAIN", "hello", "hi there", **{"tag.tags": ["beta", "env=prod"]}
                    ),
                ),
                span(
                    t[4],
                    sid(8),
                    "chat",
                    start_ms=4000,
                    duration_ms=10,
                    attrs=io_attrs("CHAIN", "bye", "ok"),
                ),
            ]
        ),
    )
    # assessments: t1 thumbs down (then overridden to up), t2 thumbs down + score 2,
    # t3 score 4.5, t4 expectation; t5 none.
    put(
        line(
            [
                carrier(
                    1, t[0], sid(1), _record("a-" + "1" * 32, t[0], "user_feedback", False), 5000
                ),
                carrier(
                    2,
                    t[0],
                    sid(1),
                    _record(
                        "a-" + "2" * 32, t[0], "user_feedback", True, overrides="a-" + "1" * 32
                    ),
                    6000,
                ),
                carrier(3, t[1], sid(4), _record("a-" + "3" * 32, t[1], "user_feedback", False)),
                carrier(4, t[1], sid(4), _record("a-" + "4" * 32, t[1], "score", 2)),
                carrier(5, t[2], sid(6), _record("a-" + "5" * 32, t[2], "score", 4.5)),
                carrier(
                    6,
                    t[3],
                    sid(7),
                    _record("a-" + "6" * 32, t[3], "expected_response", "hi", kind="expectation"),
                ),
            ]
        ),
    )
