"""No value can make a store unreadable (issue 13).

Each poison is a line as another writer (an older SDK, another language's SDK, the
Collector) may have written it: valid JSON, most of it valid OTLP, holding one value the
index cannot store as it is. Every read path must still answer, in this process and in
the next one, and show the good trace written after the poison.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import otelfeedback
from otelfeedback.cli import main
from otelfeedback.store import FileStore
from tests.server.live import LiveServer, get
from tests.store.otlp_fixtures import append, io_attrs, line, request, sid, span, tid

POISON_TRACE, GOOD_TRACE = tid(0xBAD), tid(0x600D)


def _with_attr(key: str, any_value: dict[str, Any]) -> dict[str, Any]:
    data = span(POISON_TRACE, sid(1), "poisoned", attrs=io_attrs("LLM", "in", "out"))
    data["attributes"].append({"key": key, "value": any_value})
    return data


def _with_times(start: str, end: str) -> dict[str, Any]:
    data = span(POISON_TRACE, sid(1), "poisoned")
    data["startTimeUnixNano"], data["endTimeUnixNano"] = start, end
    return data


def _named(name: str) -> dict[str, Any]:
    return span(POISON_TRACE, sid(1), name)


def _assessment_with(**overrides: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "otelfeedback.assessment.id": "a-" + "1" * 32,
        "otelfeedback.assessment.trace_id": POISON_TRACE,
        "otelfeedback.assessment.name": "score",
        "otelfeedback.assessment.kind": "feedback",
        "otelfeedback.assessment.value": "1",
        "otelfeedback.assessment.source_type": "HUMAN",
        "otelfeedback.assessment.source_id": "u1",
        "otelfeedback.assessment.create_time_ms": 5,
        "otelfeedback.assessment.operation": "create",
    }
    attrs.update(overrides)
    return span(POISON_TRACE, sid(2), "otelfeedback.assessment", parent=sid(1), attrs=attrs)


def _line(*spans: dict[str, Any]) -> str:
    return line(spans)


#: name -> the text of the poisoned line(s)
POISONS: dict[str, Callable[[], str]] = {
    "tokens 2**63": lambda: _line(
        _with_attr("gen_ai.usage.input_tokens", {"intValue": str(2**63)})
    ),
    "tokens 2**63 as a JSON number": lambda: _line(
        _with_attr("gen_ai.usage.output_tokens", {"intValue": 2**63})
    ),
    "attribute 10**400": lambda: _line(_with_attr("x", {"intValue": str(10**400)})),
    "attribute 10**5000 (past int() digits)": lambda: _line(
        _with_attr("x", {"intValue": "1" + "0" * 5000})
    ),
    "double 10**400": lambda: _line(_with_attr("x", {"doubleValue": 10**400})),
    "tokens Infinity": lambda: _line(
        _with_attr("gen_ai.usage.input_tokens", {"doubleValue": "Infinity"})
    ),
    "tokens NaN": lambda: _line(_with_attr("gen_ai.usage.input_tokens", {"doubleValue": "NaN"})),
    "start 2**64-1": lambda: _line(_with_times(str(2**64 - 1), str(2**64 - 1))),
    "start 2**64-1 as JSON numbers": lambda: (
        json.dumps(request([_with_times(str(2**64 - 1), str(2**64 - 1))])).replace(
            f'"{2**64 - 1}"', str(2**64 - 1)
        )
        + "\n"
    ),
    "negative times": lambda: _line(_with_times("-5", "-1")),
    "lone surrogate in a value": lambda: _line(_with_attr("x", {"stringValue": "a\ud800b"})),
    "lone surrogate in an input": lambda: _line(
        _with_attr("input.value", {"stringValue": "\udfff question"})
    ),
    "lone surrogate in a key": lambda: _line(_with_attr("k\ud800", {"stringValue": "v"})),
    "lone surrogate in a name": lambda: _line(_named("\ud800")),
    "lone surrogate in metadata": lambda: _line(
        _with_attr("metadata", {"stringValue": json.dumps({"tier": "\ud800"})})
    ),
    "metadata 10**400": lambda: _line(
        _with_attr("metadata", {"stringValue": '{"n": ' + str(10**400) + "}"})
    ),
    "invalid UTF-8 bytes": lambda: _line(_with_attr("x", {"stringValue": "XBADX"})).replace(
        "XBADX", "\udcff"
    ),
    "assessment created in 2**70 ms": lambda: _line(
        span(POISON_TRACE, sid(1), "poisoned"),
        _assessment_with(**{"otelfeedback.assessment.create_time_ms": str(2**70)}),
    ),
    "assessment value 10**400": lambda: _line(
        span(POISON_TRACE, sid(1), "poisoned"),
        _assessment_with(**{"otelfeedback.assessment.value": str(10**400)}),
    ),
    "assessment with a lone surrogate": lambda: _line(
        span(POISON_TRACE, sid(1), "poisoned"),
        _assessment_with(**{"otelfeedback.assessment.rationale": "\ud800"}),
    ),
    "assessment value escaping a lone surrogate": lambda: _line(
        span(POISON_TRACE, sid(1), "poisoned"),
        _assessment_with(**{"otelfeedback.assessment.value": '"\\ud800"'}),
    ),
}


def _write(store: Path, poison: str) -> None:
    text = POISONS[poison]()
    path = store / "traces" / "segment-000001.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    # surrogateescape turns "\udcff" into the byte 0xff: invalid UTF-8, as a broken
    # writer would leave it; other surrogates are JSON escapes (ensure_ascii).
    with open(path, "ab") as handle:
        handle.write(text.encode("utf-8", "surrogateescape"))
    good = span(GOOD_TRACE, sid(9), "good", start_ms=1, attrs=io_attrs("CHAIN", "hi", "ok"))
    append(store, line([good]))


@pytest.fixture(params=sorted(POISONS))
def poisoned(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    store = tmp_path / "store"
    _write(store, request.param)
    yield store


def test_file_store_reads_survive(poisoned: Path) -> None:
    with FileStore(poisoned) as store:
        found = {t.info.trace_id: t for t in store.search_traces(max_results=None)}
        assert GOOD_TRACE in found
        assert store.get_trace(GOOD_TRACE).info.name == "good"
        # The poisoned trace itself is repaired, not lost.
        assert POISON_TRACE in found
        poisoned_trace = store.get_trace(POISON_TRACE)
        assert poisoned_trace.to_json()
        assert store.index_status().skipped_lines == 0
    with FileStore(poisoned) as again:  # the next process
        assert GOOD_TRACE in {t.info.trace_id for t in again.search_traces()}
        stats = again.reindex()
        assert stats.skipped_lines == 0
        assert {t.info.trace_id for t in again.search_traces()} == {GOOD_TRACE, POISON_TRACE}


def test_sdk_reads_survive(poisoned: Path) -> None:
    otelfeedback.configure(store=poisoned)
    assert GOOD_TRACE in {t.info.trace_id for t in otelfeedback.search_traces()}
    assert otelfeedback.get_trace(GOOD_TRACE).info.name == "good"


def test_cli_reads_and_reindex_survive(poisoned: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "search", "--store", str(poisoned), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert GOOD_TRACE in {t["trace_id"] for t in out["traces"]}
    assert main(["traces", "get", POISON_TRACE, "--store", str(poisoned), "--json"]) == 0
    json.loads(capsys.readouterr().out)
    assert main(["store", "reindex", "--store", str(poisoned), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped_lines"] == 0


def test_server_pages_and_api_survive(poisoned: Path) -> None:
    from otelfeedback.server import create_app

    live = LiveServer(create_app(poisoned))
    try:
        for path in (
            "/traces",
            "/traces?format=json",
            f"/traces/{GOOD_TRACE}",
            f"/traces/{POISON_TRACE}",
            "/api/traces",
            f"/api/traces/{POISON_TRACE}",
            f"/api/traces/{POISON_TRACE}/assessments",
            "/api/assessment-names",
        ):
            reply = get(live.url + path)
            assert reply.status == 200, (path, reply.text[:300])
        assert GOOD_TRACE in get(live.url + "/traces").text
    finally:
        live.close()


def test_poisoned_values_read_back_under_the_value_rule(tmp_path: Path) -> None:
    for poison in (
        "tokens 2**63",
        "attribute 10**400",
        "start 2**64-1",
        "lone surrogate in a value",
        "invalid UTF-8 bytes",
    ):
        _write(tmp_path / poison, poison)
    with FileStore(tmp_path / "tokens 2**63") as store:
        trace = store.get_trace(POISON_TRACE)
        # Past 64 bits, an integer is kept as its exact text (not a token count).
        assert trace.spans[0].attributes["gen_ai.usage.input_tokens"] == str(2**63)
        assert trace.info.input_tokens == 0
    with FileStore(tmp_path / "attribute 10**400") as store:
        assert store.get_trace(POISON_TRACE).spans[0].attributes["x"] == str(10**400)
    with FileStore(tmp_path / "start 2**64-1") as store:
        span_ = store.get_trace(POISON_TRACE).spans[0]
        # Clamped to what SQLite can store.
        assert span_.start_time_ns == span_.end_time_ns == 2**63 - 1
    with FileStore(tmp_path / "lone surrogate in a value") as store:
        assert store.get_trace(POISON_TRACE).spans[0].attributes["x"] == "a\ufffdb"
        hits = store.search_traces("span.attributes.x = 'a\ufffdb'")
        assert [t.info.trace_id for t in hits] == [POISON_TRACE]
    with FileStore(tmp_path / "invalid UTF-8 bytes") as store:
        assert store.get_trace(POISON_TRACE).spans[0].attributes["x"] == "\ufffd"


def test_a_line_that_cannot_be_repaired_is_skipped_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = request([span(POISON_TRACE, sid(1), "x")])
    bad["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = "soon"
    append(tmp_path, json.dumps(bad) + "\n")
    append(tmp_path, line([span(GOOD_TRACE, sid(9), "good")]))
    with FileStore(tmp_path) as store, caplog.at_level("WARNING", "otelfeedback.store"):
        assert [t.info.trace_id for t in store.search_traces()] == [GOOD_TRACE]
        status = store.index_status()
    assert status.skipped_lines == 1 and status.up_to_date
    assert status.last_skipped[0][:2] == ("segment-000001.jsonl", 1)
    assert "startTimeUnixNano" in status.last_skipped[0][2]
    assert "skipping line 1 of" in caplog.text


def test_poison_in_the_middle_of_a_chunk_loses_no_neighbour(tmp_path: Path) -> None:
    """The index stores a chunk of lines at once; one line that SQLite refuses is found
    (by halving the chunk) and repaired, and its neighbours are all stored."""
    for n in range(1, 41):
        if n == 17:
            append(tmp_path, POISONS["lone surrogate in a key"]())
        append(tmp_path, line([span(tid(n), sid(n), f"t{n}", start_ms=n)]))
    with FileStore(tmp_path) as store:
        stats = store.update_index()
        assert stats.repaired_lines == 1 and stats.skipped_lines == 0
        found = {t.info.trace_id for t in store.search_traces(max_results=None)}
    assert found == {tid(n) for n in range(1, 41)} | {POISON_TRACE}
