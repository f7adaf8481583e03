"""The filter grammar: a table of filters -> trace sets, and malformed filters -> positions."""

from __future__ import annotations

import pytest

from otelfeedback.errors import FilterSyntaxError, InvalidArgumentError
from otelfeedback.store import FileStore
from otelfeedback.store.query import PostgresDialect, compile_filter, parse_filter

CASES = [
    ("", {1, 2, 3, 4, 5}),
    ("trace.status = 'ERROR'", {2}),
    ("status = 'ok'", {1, 3, 4, 5}),
    ("trace.name = 'chat'", {1, 2, 4, 5}),
    ("trace.name LIKE 'sum%'", {3}),
    ("trace.name LIKE 'SUM%'", set()),
    ("trace.name ILIKE 'SUM%'", {3}),
    ("trace.name IN ('summarize', 'nope')", {3}),
    ("trace.name NOT IN ('chat')", {3}),
    ("trace.execution_time_ms > 200", {2, 4}),
    ("trace.execution_time_ms <= 50", {3, 5}),
    ("trace.timestamp_ms >= 1700000002000 AND trace.timestamp_ms < 1700000004000", {3, 4}),
    ("trace.total_tokens = 120", {1}),
    ("trace.input_tokens > 0", {1, 3}),
    ("trace.service_name = 'other'", {2}),
    ("trace.session_id = 's1'", {1}),
    ("trace.session_id IS NULL", {2, 3, 4, 5}),
    ("tags.env = 'prod'", {1, 4}),
    ("tag.env != 'prod'", {2}),
    ("tags.beta IS NOT NULL", {4}),
    ("tags.env IS NULL", {3, 5}),
    ("tags.version = 3", {1}),
    ("tags.version > 2", {1}),
    ("metadata.tier IN ('gold', 'free')", {1, 2}),
    ("span.type = 'RETRIEVER'", {1}),
    ("span.type = 'llm'", {1, 3}),
    ("span.name = 'search_tool'", {2}),
    ("span.name LIKE '%tool'", {2}),
    ("span.attributes.gen_ai.request.model = 'gpt-4o-mini'", {1}),
    ("span.attributes.`retriever.k` >= 5", {1}),
    ("span.attributes.retriever.k = 4", set()),
    ("feedback.user_feedback = false", {2}),
    ("feedback.user_feedback = 'false'", {2}),
    ("feedback.user_feedback = true", {1}),
    ("feedback.user_feedback IS NULL", {3, 4, 5}),
    ("feedback.score > 3", {3}),
    ("feedback.score >= 2", {2, 3}),
    ("feedback.score = 2", {2}),
    ("feedback.score IN (2, 4.5)", {2, 3}),
    ("expectation.expected_response = 'hi'", {4}),
    ("expectation.expected_response IS NOT NULL", {4}),
    ("feedback.expected_response IS NOT NULL", set()),
    ("trace.text LIKE '%refund%'", {1}),
    ("trace.text ILIKE '%this text%'", {3}),
    ("trace.text LIKE '%nowhere%'", set()),
    ("trace.text NOT LIKE '%refund%'", {2, 3, 4, 5}),
    ("feedback.user_feedback = false OR feedback.score > 3", {2, 3}),
    ("(span.type = 'LLM' OR span.type = 'TOOL') AND trace.execution_time_ms > 60", {1, 2}),
    ("span.type = 'LLM' AND NOT feedback.score IS NOT NULL", {1}),
    ("NOT (tags.env = 'prod' OR tags.env = 'dev')", {3, 5}),
    (
        "feedback.user_feedback = false AND span.type = 'TOOL' AND trace.execution_time_ms > 500",
        {2},
    ),
    ("trace.status = 'OK' and span.type = 'chain' or trace.name = 'summarize'", {1, 3, 4, 5}),
]


def ids(traces: list) -> set[int]:
    return {int(t.trace_id, 16) for t in traces}


@pytest.mark.parametrize(("filter_string", "expected"), CASES)
def test_filter_selects_expected_traces(
    sample_store: FileStore, filter_string: str, expected: set[int]
) -> None:
    assert ids(sample_store.search_traces(filter_string)) == expected


MALFORMED = [
    ("trace.status =", 14, "expected a value"),
    ("trace.status = 'OK' AND", 23, "expected a field name"),
    ("trace.status 'OK'", 13, "expected a comparison operator"),
    ("(trace.status = 'OK'", 0, "unbalanced '('"),
    ("trace.status = 'OK')", 19, "unbalanced ')'"),
    ("trace.status = 'OK", 15, "unterminated string"),
    ("trace.bogus = 1", 0, "unknown trace field 'bogus'"),
    ("foo.bar = 1", 0, "unknown field prefix 'foo'"),
    ("span.colour = 'red'", 0, "unknown span field"),
    ("trace.execution_time_ms > 'slow'", 26, "expects a number"),
    ("trace.name > 'a'", 11, "operator > is not supported"),
    ("trace.text = 'refund'", 11, "operator = is not supported"),
    ("feedback.x LIKE 5", 16, "needs a quoted pattern"),
    ("trace.name IN 'a'", 14, "expected '(' after IN"),
    ("trace.name IN ('a' 'b')", 19, "expected ',' or ')'"),
    ("trace.status = OK", 15, "quote strings"),
    ("trace.status == 'OK'", 14, "expected a value"),
    ("trace.status = 'OK' tags.a = 'b'", 20, "expected AND, OR or end of filter"),
    ("tags.a IS 'b'", 10, "expected NULL"),
    ("trace.status = 'OK' & x", 20, "unexpected character '&'"),
]


@pytest.mark.parametrize(("filter_string", "position", "message"), MALFORMED)
def test_malformed_filter_points_at_offending_token(
    filter_string: str, position: int, message: str
) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(filter_string)
    error = info.value
    assert error.position == position
    assert message in str(error)
    # The message quotes the filter and puts a caret under the token.
    lines = str(error).splitlines()
    assert lines[1].strip() == filter_string.strip()
    assert lines[2].index("^") - lines[1].index(filter_string[0]) == position


def test_search_validates_arguments(sample_store: FileStore) -> None:
    with pytest.raises(InvalidArgumentError, match="max_results"):
        sample_store.search_traces(max_results=0)
    with pytest.raises(InvalidArgumentError, match="order_by: unknown key 'colour'"):
        sample_store.search_traces(order_by=["colour DESC"])
    with pytest.raises(InvalidArgumentError, match="order_by"):
        sample_store.search_traces(order_by="name SIDEWAYS")
    with pytest.raises(InvalidArgumentError, match="page_token: not a page token"):
        sample_store.search_traces(page_token="garbage!")
    with pytest.raises(InvalidArgumentError, match="run_id"):
        sample_store.search_traces(run_id="")


def test_newest_first_by_default_and_order_by(sample_store: FileStore) -> None:
    assert [int(t.trace_id, 16) for t in sample_store.search_traces()] == [5, 4, 3, 2, 1]
    slowest = sample_store.search_traces(order_by=["execution_time_ms DESC"], max_results=2)
    assert [int(t.trace_id, 16) for t in slowest] == [2, 4]


def test_paging_walks_every_trace_once(sample_store: FileStore) -> None:
    seen: list[int] = []
    token = None
    while True:
        page = sample_store.search_traces("trace.name = 'chat'", max_results=2, page_token=token)
        seen.extend(int(t.trace_id, 16) for t in page)
        token = page.token
        if token is None:
            break
    assert seen == [5, 4, 2, 1]
    first = sample_store.search_traces(max_results=2)
    with pytest.raises(InvalidArgumentError, match="different filter"):
        sample_store.search_traces("trace.status = 'OK'", page_token=first.token)


def test_compiler_emits_postgres_placeholders() -> None:
    sql, params = compile_filter(
        parse_filter("trace.name ILIKE 'a%' AND feedback.x = true"), PostgresDialect()
    )
    assert "?" not in sql
    assert "ILIKE %s" in sql
    assert params == ["a%", "x", "true"]
