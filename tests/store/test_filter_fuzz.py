"""Property: any string given as a filter gives a result or a ``FilterSyntaxError``, never
another exception (no RecursionError, OverflowError, sqlite3 error, UnicodeEncodeError).

Three sources of strings: any text (lone surrogates included), a soup of the grammar's own
tokens in any order, and well-formed filters of any shape. The budget is fixed and the run
derandomized, so CI runs the same examples every time in a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otelfeedback.errors import FilterSyntaxError
from otelfeedback.store import FileStore
from otelfeedback.store.query import PostgresDialect, compile_filter, parse_filter
from tests.store.conftest import write_sample_store

BUDGET = settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

FIELDS = [
    "trace.name",
    "name",
    "status",
    "trace.status",
    "trace.trace_id",
    "timestamp_ms",
    "trace.execution_time_ms",
    "trace.total_tokens",
    "trace.session_id",
    "trace.text",
    "tags.env",
    "tag.version",
    "metadata.tier",
    "span.name",
    "span.type",
    "span.status",
    "span.attributes.`retriever.k`",
    "span.attributes.gen_ai.request.model",
    "feedback.score",
    "feedback.user_feedback",
    "expectation.expected_response",
    "tags.`a b`",
    "foo.bar",
]
OPERATORS = [
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "ILIKE",
    "NOT LIKE",
    "IN",
    "NOT IN",
    "IS NULL",
    "IS NOT NULL",
    "==",
]
NUMBERS = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.sampled_from(
        [
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "1e308",
            "1e309",
            "-1e400",
            ".5",
            "1.",
            "1e",
            "0x10",
            "1_000",
            "٣",
            "²",
            "9" * 5000,
        ]
    ),
    st.floats(allow_nan=False).map(repr),
)
STRINGS = st.one_of(
    st.text(max_size=12).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(
        [
            "'%'",
            "'\\%'",
            "'_'",
            "'it''s'",
            '"dq"',
            "'\\'",
            "'unterminated",
            "'\ud800'",
            "'\x00'",
            "'%refund%'",
            "'[*?'",
        ]
    ),
)
TOKENS = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(OPERATORS),
    st.sampled_from(
        [
            "AND",
            "OR",
            "NOT",
            "(",
            ")",
            ",",
            "TRUE",
            "FALSE",
            "NULL",
            "IS",
            "`",
            ".",
            "&",
            "and",
            "Or",
        ]
    ),
    NUMBERS,
    STRINGS,
)
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=200)


def _literal() -> st.SearchStrategy[str]:
    return st.one_of(NUMBERS, STRINGS, st.sampled_from(["true", "false"]))


VALID_NUMBERS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
VALID_STRINGS = st.text(st.characters(exclude_categories=("Cs",)), max_size=12).map(
    lambda s: "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"
)
#: field -> (operators, values) that the grammar accepts together
TYPED = {
    "number": (
        ["timestamp_ms", "trace.execution_time_ms", "trace.total_tokens", "trace.span_count"],
        ["=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN"],
        VALID_NUMBERS,
    ),
    "string": (
        ["trace.name", "status", "trace.trace_id", "span.name", "span.type", "span.status"],
        ["=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN"],
        VALID_STRINGS,
    ),
    "nullable": (
        ["trace.name", "trace.session_id", "trace.user_id"],
        ["IS NULL", "IS NOT NULL"],
        VALID_STRINGS,
    ),
    "text": (["trace.text"], ["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"], VALID_STRINGS),
    "any": (
        [
            "tags.env",
            "metadata.tier",
            "span.attributes.`retriever.k`",
            "feedback.score",
            "feedback.user_feedback",
            "expectation.expected_response",
        ],
        ["=", "!=", "<", ">=", "IN", "NOT IN", "IS NULL", "IS NOT NULL"],
        st.one_of(VALID_NUMBERS, VALID_STRINGS, st.sampled_from(["true", "false"])),
    ),
}


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    """A comparison the grammar accepts: a field, an operator and values of its type."""
    fields, operators, values = TYPED[draw(st.sampled_from(sorted(TYPED)))]
    field, op = draw(st.sampled_from(fields)), draw(st.sampled_from(operators))
    if op.endswith("NULL"):
        return f"{field} {op}"
    if op.endswith("IN"):
        items = draw(st.lists(values, min_size=1, max_size=4))
        return f"{field} {op} ({', '.join(items)})"
    if "LIKE" in op:
        return f"{field} {op} {draw(VALID_STRINGS)}"
    return f"{field} {op} {draw(values)}"


WELL_FORMED = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=4).map(lambda xs: " AND ".join(xs)),
        st.lists(inner, min_size=2, max_size=4).map(lambda xs: " OR ".join(xs)),
        inner.map(lambda x: f"NOT {x}"),
        inner.map(lambda x: f"({x})"),
    ),
    max_leaves=12,
)
FILTERS = st.one_of(
    ANY_TEXT,
    st.lists(TOKENS, max_size=30).map(" ".join),
    WELL_FORMED,
    # deep and long shapes, near and past the limits
    st.tuples(
        st.one_of(st.integers(0, 25), st.integers(95, 105), st.integers(300, 400)),
        st.sampled_from(["(", "NOT ", "NOT (", "(tags.a = 1 OR ", "NOT (span.type = 'LLM' OR "]),
        WELL_FORMED,
    ).map(lambda t: t[1] * t[0] + t[2] + ")" * t[0]),
    st.tuples(st.integers(1, 1200), comparisons(), st.sampled_from([" OR ", " AND "])).map(
        lambda t: t[2].join([t[1]] * t[0])
    ),
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileStore]:
    path: Path = tmp_path_factory.mktemp("fuzz-store")
    write_sample_store(path)
    with FileStore(path) as opened:
        yield opened


@BUDGET
@given(filter_string=FILTERS)
def test_any_filter_gives_a_result_or_a_filter_syntax_error(
    store: FileStore, filter_string: str
) -> None:
    try:
        traces = store.search_traces(filter_string, max_results=10, include_spans=False)
    except FilterSyntaxError as error:
        assert 0 <= error.position <= max(len(filter_string), 60)
        str(error).encode("utf-8")  # the message prints, whatever the filter held
        return
    assert all(len(t.trace_id) == 32 for t in traces)
    # a filter SQLite takes also compiles for PostgreSQL
    compile_filter(parse_filter(filter_string), PostgresDialect())
