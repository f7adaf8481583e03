"""SQL injection through filters, names and values is impossible on the PostgreSQL store:
every value reaches the database as a parameter. Hostile filters either fail to parse
(``FilterSyntaxError``) or select exactly what the file store selects for the same filter,
and the database is untouched afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otelfeedback.errors import FilterSyntaxError, InvalidArgumentError, NotFoundError
from otelfeedback.store import FileStore
from otelfeedback.store.sql import SqlStore
from tests.store.otlp_fixtures import append, io_attrs, line, sid, span, tid

pytestmark = pytest.mark.postgres

HOSTILE = [
    "'; DROP TABLE traces; --",
    "' OR '1'='1",
    "x' OR 1=1 --",
    "\\'; DELETE FROM spans; --",
    "%' UNION SELECT trace_id FROM traces --",
    "$$; DROP TABLE records; $$",
    "`); DROP TABLE assessments; --",
    "\x00",
    "\ud800",
    "%s",
    "%(x)s",
    "{}",
    "é'∑\"",
    "pg_sleep(10)",
    "chat",
]
FIELDS = [
    "trace.name",
    "trace.status",
    "trace.session_id",
    "span.name",
    "span.type",
    "tags.env",
    "tags.`a'b`",
    "metadata.`'; DROP TABLE traces; --`",
    "span.attributes.`x' OR '1'='1`",
    "feedback.`user_feedback'--`",
    "feedback.user_feedback",
    'expectation.`"; DROP`',
]


def quoted(value: str) -> str:
    """A filter string literal (single quotes, backslash escapes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.fixture(scope="module")
def stores(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("injection")
    text = line(
        [
            span(tid(1), sid(1), "chat", attrs=io_attrs("CHAIN", "hello", "hi", x="1")),
            span(tid(2), sid(2), "'; DROP TABLE traces; --", start_ms=5),
            span(tid(3), sid(3), "é'∑\"", start_ms=9, attrs=io_attrs("TOOL", "%' UNION", "x")),
        ]
    )
    append(directory, text)
    url = postgres.create_database("injection", template="otelfeedback_template")
    database = SqlStore(url)
    database.append_line(text.encode())
    yield FileStore(directory), database
    database.close()
    postgres.drop_database("injection")


def counts(database: SqlStore) -> tuple[Any, ...]:
    return database._read(  # type: ignore[no-any-return]
        lambda conn: conn.execute(
            "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM spans), "
            "(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')"
        ).fetchone()
    )


def ids(traces: Any) -> list[str]:
    return sorted(t.trace_id for t in traces)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(FIELDS),
    op=st.sampled_from(["=", "!=", "LIKE", "ILIKE", "NOT LIKE", "<", ">=", "IN", "IS NULL"]),
    # (lone surrogates: the file store's SQLite refuses them; the PostgreSQL store is
    # checked with them below)
    value=st.one_of(
        st.sampled_from([h for h in HOSTILE if h != "\ud800"]),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
    ),
    raw=st.booleans(),
)
def test_hostile_filters_select_what_the_file_store_selects(
    stores: Any, field: str, op: str, value: str, raw: bool
) -> None:
    files, database = stores
    before = counts(database)
    if op == "IS NULL":
        filter_string = f"{field} IS NULL"
    elif op == "IN":
        filter_string = f"{field} IN ({quoted(value)}, {quoted(value + 'x')})"
    else:
        # raw: the value pasted unquoted into the filter, as an attacker would try
        filter_string = f"{field} {op} {value if raw else quoted(value)}"
    try:
        expected = ids(files.search_traces(filter_string))
    except (FilterSyntaxError, InvalidArgumentError) as exc:
        with pytest.raises(type(exc)):
            database.search_traces(filter_string)
    else:
        assert ids(database.search_traces(filter_string)) == expected
    assert counts(database) == before


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_ids_and_names_are_values(stores: Any, value: str) -> None:
    _, database = stores
    before = counts(database)
    with pytest.raises(NotFoundError):
        database.get_trace(value)
    with pytest.raises(NotFoundError):
        database.get_assessment(value, value)
    assert database.find_root_span_id(value) is None
    assert not database.has_span(value, value)
    assert database.search_traces(run_id=value or "x") == []
    if value != "\ud800":  # (a filter must be valid Unicode: FilterSyntaxError)
        assert database.search_traces(f"trace.text LIKE {quoted('%' + value + '%')}") is not None
    with pytest.raises((InvalidArgumentError, NotFoundError)):
        database.get_record("dataset", value)
    assert counts(database) == before
