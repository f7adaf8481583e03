"""The PostgreSQL store's own behaviour: migrations, values PostgreSQL cannot hold as text,
partitions and pruning. (Everything a store does is tested on both stores elsewhere.)"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from otelfeedback.store.sql import SqlStore
from otelfeedback.store.sql.schema import MIGRATIONS, SchemaTooNewError
from tests.store.otlp_fixtures import io_attrs, line, sid, span, tid

pytestmark = pytest.mark.postgres


def sql(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def test_migrations_run_once_on_first_use_and_are_recorded(postgres_empty_url: str) -> None:
    with SqlStore(postgres_empty_url) as store:
        assert store.schema_version() == 0
        assert store.search_traces() == []  # first use migrates
        assert store.schema_version() == MIGRATIONS[-1].version
        assert store.migrate() == []
    rows = sql(postgres_empty_url, "SELECT version, name FROM schema_migrations ORDER BY 1")
    assert rows == [(m.version, m.name) for m in MIGRATIONS]


def test_a_schema_newer_than_the_code_is_refused(postgres_url: str) -> None:
    sql(postgres_url, "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    with SqlStore(postgres_url) as store:
        with pytest.raises(SchemaTooNewError, match="version 999, newer than this"):
            store.search_traces()
        with pytest.raises(SchemaTooNewError):
            store.append_record("dataset", "d", {})
    assert sql(postgres_url, "SELECT count(*) FROM records") == [(0,)]


POISON: dict[str, Any] = {
    "nul": "a\x00b",
    "surrogate": "x\ud800y",
    "big_int": 2**70,
    "nan": float("nan"),
    "inf": float("-inf"),
    "empty": "",
    "huge": "h" * 10_000_000,
    "nested": {"a": [{"b": [1, {"c": "d\x00"}]}]},
}


def test_values_postgresql_cannot_hold_as_text_round_trip_exactly(
    postgres_url: str, tmp_path: Any
) -> None:
    from otelfeedback.store import FileStore
    from tests.store.otlp_fixtures import append

    name = "n\x00" + "é" * 600  # a NUL, and longer than an indexed column keeps
    attrs = io_attrs("CHAIN", "in\x00put \ud83d", "out\ud800", **{"session.id": "s\x00"})
    attrs.update({f"k.{key}": value for key, value in POISON.items()})
    attrs["gen_ai.usage.input_tokens"] = 2**80
    attrs["k\x00" + "y" * 3000] = "v" * 400  # an attribute key past any index entry
    attrs["metadata"] = json.dumps({"m": "\ud800\x00"})
    text = line([span(tid(1), sid(1), name, attrs=attrs, start_ms=0, duration_ms=5)])
    append(tmp_path, text)
    with SqlStore(postgres_url) as store:
        store.append_line(text.encode())
        # The largest OTLP time (fixed64), past the signed 64 bits of the index's columns.
        late = json.loads(line([span(tid(2), sid(2), "late")]))
        late["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["endTimeUnixNano"] = str(2**64 - 1)
        store.append_request(late)
        append(tmp_path, json.dumps(late) + "\n")
        (only,) = store.get_trace(tid(1)).spans
        # What the value rule left of each value (the file store holds the same), exactly.
        (expected,) = FileStore(tmp_path).get_trace(tid(1)).spans
        assert only.name == name == expected.name
        for key in POISON:
            got = only.attributes[f"k.{key}"]
            if key == "nan":
                assert math.isnan(got)
            else:
                assert got == expected.attributes[f"k.{key}"], key
        assert only.attributes["k.nul"] == "a\x00b"
        assert only.attributes["k.big_int"] == str(2**70)  # the value rule: its exact text
        assert only.attributes == {k: v for k, v in expected.attributes.items() if k != "k.nan"} | {
            "k.nan": only.attributes["k.nan"]
        }
        assert only.inputs == expected.inputs
        info = store.get_trace(tid(1)).info
        expected_info = FileStore(tmp_path).get_trace(tid(1)).info
        assert info.metadata == expected_info.metadata
        assert info.input_tokens == expected_info.input_tokens
        late_end = FileStore(tmp_path).get_trace(tid(2)).spans[0].end_time_ns
        assert store.get_trace(tid(2)).spans[0].end_time_ns == late_end == 2**63 - 1
        # Filters find the values whose stored form had to change.
        assert [t.trace_id for t in store.search_traces("trace.session_id = 's\x00'")] == [tid(1)]
        assert len(store.search_traces("span.attributes.`k.nul` = 'a\x00b'")) == 1
        assert len(store.search_traces("trace.text LIKE '%in\x00put%'")) == 1
        assert len(store.search_traces(f"span.attributes.`k.big_int` = '{2**70}'")) == 1
        assert len(store.search_traces(f"trace.name LIKE '{name[:2]}%'")) == 1


def test_spans_arriving_in_any_order_and_twice_summarize_like_the_file_store(
    postgres_url: str, tmp_path: Any
) -> None:
    from otelfeedback.store import FileStore
    from tests.store.otlp_fixtures import append

    lines = [
        line([span(tid(1), sid(2), "child", parent=sid(1), start_ms=1, duration_ms=1)]),
        line([span(tid(1), sid(3), "late", parent=sid(9), start_ms=2)]),
        line([span(tid(1), sid(1), "root", start_ms=0, attrs=io_attrs("CHAIN", "q", "a"))]),
        line([span(tid(1), sid(2), "child", parent=sid(1), start_ms=1, duration_ms=1)]),
    ]
    with SqlStore(postgres_url) as store:
        for text in lines:
            append(tmp_path, text)
            store.append_line(text.encode())
        assert store.get_trace(tid(1)).to_dict() == FileStore(tmp_path).get_trace(tid(1)).to_dict()


def partitions_of(url: str) -> list[str]:
    rows = sql(
        url,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'spans'::regclass ORDER BY 1",
    )
    return [row[0] for row in rows]


def test_partitions_are_made_ahead_and_prune_drops_whole_old_ones(
    postgres_empty_url: str,
) -> None:
    import time

    from otelfeedback.api.assessments import log_feedback, writing_to

    now_ms = time.time_ns() // 1_000_000
    day = 86_400_000
    old = [tid(n) for n in range(1, 10)]  # 40 days old: partitions 0-1 and part of 2
    new = [tid(n) for n in range(10, 13)]
    with SqlStore(postgres_empty_url, partition_traces=4) as store:
        for n, trace in enumerate([*old, *new], start=1):
            age = 40 * day if trace in old else day
            start = (now_ms - age) * 1_000_000
            request = json.loads(
                line([span(trace, sid(n), f"t{n}", attrs=io_attrs("LLM", "x", "y", model="m"))])
            )
            record = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
            record["startTimeUnixNano"] = str(start)
            record["endTimeUnixNano"] = str(start + 1000)
            store.append_request(request)
        with writing_to(store):
            log_feedback(old[0], "user_feedback", False)
            log_feedback(new[0], "user_feedback", True)
        made = partitions_of(postgres_empty_url)
        assert made[:4] == [f"spans_p{n:06d}" for n in range(4)]  # keys 1-12, and ahead
        stats = store.prune(30 * day)
        assert (stats.traces, stats.partitions_dropped) == (9, 2)
        assert partitions_of(postgres_empty_url)[0] == "spans_p000002"
        assert sorted(t.trace_id for t in store.search_traces()) == new
        assert store.search_traces("feedback.user_feedback IS NOT NULL")[0].trace_id == new[0]
        assert sql(postgres_empty_url, "SELECT count(*) FROM spans") == [(3,)]
        assert sql(postgres_empty_url, "SELECT count(*) FROM assessment_records") == [(1,)]
        assert sql(postgres_empty_url, "SELECT count(*) FROM span_attrs") == [(3,)]
        assert store.prune(30 * day).traces == 0
        # A late span of a pruned trace starts it again; nothing breaks.
        store.append_line(line([span(old[0], sid(99), "again")]).encode())
        assert store.get_trace(old[0]).info.span_count == 1
