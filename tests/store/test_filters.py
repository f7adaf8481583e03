"""The filter grammar: a table of filters -> trace sets, and malformed filters -> positions."""

from __future__ import annotations

import pytest

from otelfeedback.errors import FilterSyntaxError, InvalidArgumentError
from otelfeedback.store import FileStore
from otelfeedback.store.query import PostgresDialect, compile_filter, parse_filter
from otelfeedback.store.query.parser import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_NESTING,
    MAX_VALUES,
    BoolOp,
)
from tests.store.conftest import Backend
from tests.store.otlp_fixtures import io_attrs, line, sid, span, tid

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


# -- limits: every filter gets a result or a FilterSyntaxError, never another exception ------
def nested(levels: int, leaf: str, group: str) -> str:
    text = leaf
    for _ in range(levels):
        text = group.format(text)
    return text


def alternating(levels: int) -> str:
    """A tree ``levels + 1`` deep: groups of OR, AND and NOT in turn, over the costliest
    conditions (assessment and tag sets, span subqueries, full text)."""
    groups = [
        "(feedback.score IN (1, 'a') OR trace.text LIKE '%x%' OR {})",
        "(span.name LIKE 'a%' AND tags.env IS NULL AND {})",
        "NOT {}",
    ]
    text = "metadata.tier != 'gold'"
    for level in range(levels):
        text = groups[level % 3].format(text)
    return text


def test_filters_at_every_limit_run(sample_store: FileStore) -> None:
    limits = [
        " OR ".join(["tags.env = 'prod'"] * MAX_CONDITIONS),  # 1,000 ORs: SQLite's depth
        " AND ".join(["span.name != 'x'"] * MAX_CONDITIONS),
        "(" * MAX_NESTING + "trace.status = 'OK'" + ")" * MAX_NESTING,
        "NOT " * MAX_NESTING + "trace.status = 'ERROR'",  # NOT NOT x is x
        "trace.name IN (" + ", ".join(f"'n{i}'" for i in range(MAX_VALUES - 1)) + ", 'chat')",
        f"tags.version < {2**63 - 1} AND tags.version > {-(2**63)}",
        "trace.timestamp_ms < 1.7976931348623157e308",
        "trace.name = '" + "x" * (MAX_FILTER_LENGTH - 20) + "'",
    ]
    depth = parse_filter(alternating(MAX_DEPTH - 1))
    assert depth is not None
    limits.append(alternating(MAX_DEPTH - 1))
    wide = " OR ".join(
        nested(3, "tags.env = 'a'", "NOT ({} AND span.type = 'LLM')") for _ in range(200)
    )
    limits.append(f"({wide}) AND {alternating(MAX_DEPTH - 4)}")
    for filter_string in limits:
        if type(sample_store).__name__ == "SqlStore":
            # PostgreSQL plans many subqueries for minutes: at most 64 (docs/store.md)
            try:
                sample_store.search_traces(filter_string)
            except InvalidArgumentError as exc:
                assert "too many conditions for the PostgreSQL store" in str(exc)
            continue
        sample_store.search_traces(filter_string)  # no exception
    assert ids(sample_store.search_traces("NOT " * MAX_NESTING + "trace.status = 'ERROR'")) == {2}
    if type(sample_store).__name__ != "SqlStore":  # (over PostgreSQL's limit, above)
        assert ids(sample_store.search_traces(limits[0])) == {1, 4}


OVER_LIMITS = [
    ("(" * 330 + "trace.status = 'OK'" + ")" * 330, MAX_NESTING, "nested too deeply"),
    ("NOT " * 989 + "trace.status = 'OK'", 4 * MAX_NESTING, "nested too deeply"),
    (" OR ".join(["tags.env = 'prod'"] * (MAX_CONDITIONS + 1)), 21 * MAX_CONDITIONS, "too many"),
    (
        "tags.a IN (" + ", ".join(["1"] * MAX_VALUES) + ") AND tags.b = 2",
        11 + 3 * MAX_VALUES - 2 + len(") AND tags.b = "),  # the 10,001st value: 2
        "too many values",
    ),
    ("tags.version = 9223372036854775808", 15, "out of range"),
    ("tags.version = -9223372036854775809", 15, "out of range"),
    ("trace.timestamp_ms > " + "9" * 5000, 21, "out of range"),
    ("trace.timestamp_ms > 1e400", 21, "out of range: decimals must be finite"),
    ("tags.x = '\ud800'", 10, "lone surrogate"),
    ("trace.timestamp_ms > \u0663", 21, "unexpected character"),
    ("trace.name = '" + "x" * MAX_FILTER_LENGTH + "'", 0, "filter too long"),
]


@pytest.mark.parametrize(("filter_string", "position", "message"), OVER_LIMITS)
def test_filters_over_a_limit_raise_filter_syntax_error(
    sample_store: FileStore, filter_string: str, position: int, message: str
) -> None:
    with pytest.raises(FilterSyntaxError, match=message) as info:
        sample_store.search_traces(filter_string)
    assert info.value.position == position
    str(info.value).encode("utf-8")  # printable, even when the filter was not


def test_depth_counts_alternating_groups_not_parentheses() -> None:
    with pytest.raises(FilterSyntaxError, match=f"at most {MAX_DEPTH} levels"):
        parse_filter(alternating(MAX_DEPTH))
    # same-operator groups and double negations are flattened, so they add no level
    tree = parse_filter("(tags.b = 1 OR (tags.c = 2 OR (tags.d = 3))) OR NOT NOT tags.e = 4")
    assert isinstance(tree, BoolOp)
    assert tree.op == "OR"
    assert len(tree.items) == 4


def test_long_runs_compile_to_shallow_sql() -> None:
    tree = parse_filter(" OR ".join(["trace.status = 'OK'"] * MAX_CONDITIONS))
    sql, params = compile_filter(tree, PostgresDialect())
    assert len(params) == MAX_CONDITIONS
    assert sql.count("(") <= 1 + MAX_CONDITIONS // 64 + 1


def test_labeling_session_fields_compile_for_both_dialects() -> None:
    tree = parse_filter("labeling_session.name = 'quickstart_review'")
    sql, params = compile_filter(tree, PostgresDialect())
    assert "?" not in sql and "(s.data::jsonb ->> 'name') = %s" in sql
    assert params == ["labeling_item", "labeling_session", "quickstart_review"]
    sql, params = compile_filter(
        parse_filter("labeling_session.id IN ('a', 'b')"), PostgresDialect()
    )
    assert "s.id IN (%s, %s)" in sql and params[-2:] == ["a", "b"]


#: Full text beyond ASCII: both stores fold case by Unicode rules. The PostgreSQL store folds
#: with ``casefold`` (``ß`` matches ``ss``); the file store with simple folding, where it
#: does not (docs/search.md), so it fails the marked case.
UNICODE_TEXT = [
    ("trace.text LIKE '%zürich%'", {1}, None),
    ("trace.text LIKE '%日本語%'", {1}, None),
    ("trace.text LIKE '%été%'", {1}, None),
    ("trace.text ILIKE '%CAFÉ%'", {1}, None),
    (
        "trace.text LIKE '%STRASSE%'",
        {2},
        pytest.mark.xfail(reason="file store: simple case folding keeps ß", strict=True),
    ),
    ("trace.text LIKE '%本%'", {1}, None),
    ("trace.name = 'Été'", {1}, None),
    ("trace.name LIKE 'É%'", {1}, None),
    ("trace.name ILIKE 'été'", set(), None),  # names compare as SQLite does: ASCII folding
]


@pytest.mark.parametrize(("filter_string", "expected", "mark"), UNICODE_TEXT)
def test_full_text_beyond_ascii(
    backend: Backend,
    request: pytest.FixtureRequest,
    filter_string: str,
    expected: set[int],
    mark: pytest.MarkDecorator | None,
) -> None:
    if mark is not None and backend.kind == "file":
        request.applymarker(mark)
    backend.write(
        line(
            [
                span(
                    tid(1), sid(1), "Été", attrs=io_attrs("CHAIN", "Un café à Zürich ÉTÉ", "日本語")
                ),
                span(tid(2), sid(2), "b", start_ms=1, attrs=io_attrs("CHAIN", "Hauptstraße", "x")),
            ]
        )
    )
    assert ids(backend.store().search_traces(filter_string)) == expected
