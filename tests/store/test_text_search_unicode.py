"""Full text beyond ASCII: short patterns the trigram index cannot answer, and Unicode case
folding (SQLite's LIKE folds ASCII letters only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from otelfeedback.store import FileStore
from otelfeedback.store.query import dialect
from tests.store.otlp_fixtures import append, io_attrs, line, sid, span, tid

TEXTS = {
    1: ("東京の天気は?", "晴れです"),
    2: ("Flights to 東京", "Two flights"),  # the pattern at the very end of an input
    3: ("Ship it", "Launched 🚀"),
    4: ("🚀🚀 go", "done"),
    5: ("Une ÉCOLE normale", "oui"),
    6: ("l'école est fermée", "non"),
    7: ("ΣΟΦΊΑ", "wisdom"),
    8: ("plain ascii text", "ab"),
    9: ("100% sure", "yes"),
}


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    spans = [
        span(tid(n), sid(n), "chat", start_ms=n * 1000, attrs=io_attrs("CHAIN", q, a))
        for n, (q, a) in TEXTS.items()
    ]
    append(tmp_path, line(spans))
    return FileStore(tmp_path)


def found(store: FileStore, pattern: str, op: str = "ILIKE") -> set[int]:
    traces = store.search_traces(f"trace.text {op} '{pattern}'", max_results=None)
    return {int(t.info.trace_id, 16) for t in traces}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("%東京%", {1, 2}),
        ("%🚀%", {3, 4}),
        ("%京%", {1, 2}),
        ("%ab%", {8}),  # a short ASCII pattern too
        ("%école%", {5, 6}),
        ("%ÉCOLE%", {5, 6}),
        ("%σοφία%", {7}),
        ("%東京の天気%", {1}),
        ("%100\\\\% sure%", {9}),
        ("%nowhere%", set()),
    ],
)
def test_full_text_finds_short_and_non_ascii_patterns(
    store: FileStore, pattern: str, expected: set[int]
) -> None:
    assert found(store, pattern) == expected


def test_not_ilike_with_a_short_pattern_excludes_its_matches(store: FileStore) -> None:
    assert found(store, "%🚀%", "NOT ILIKE") == set(TEXTS) - {3, 4}


def test_a_common_non_ascii_pattern_walks_the_traces_and_still_pages(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fewer probe rows than matches: the walk path (checked per trace, in order).
    monkeypatch.setattr(dialect, "TEXT_PROBE_ROWS", 1)
    page = store.search_traces("trace.text ILIKE '%ÉCOLE%'", max_results=1)
    assert [int(t.info.trace_id, 16) for t in page] == [6]
    assert page.token is not None


def test_the_unicode_matcher_treats_wildcards_and_escapes_like_like() -> None:
    assert dialect.unicode_ilike("Ab_c", "a%\\_C")
    assert not dialect.unicode_ilike("Abxc", "a%\\_C")
    assert dialect.unicode_ilike("line one\nLINE TWO", "%two")
    assert not dialect.unicode_ilike(None, "%")


def test_a_common_short_pattern_walks_and_still_finds_everything(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dialect, "TEXT_PROBE_ROWS", 1)
    assert found(store, "%東京%") == {1, 2}
    assert found(store, "%a%b%") == {8}


def test_a_walked_search_is_summarised_over_its_newest_matches(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from otelfeedback.store import stats

    monkeypatch.setattr(dialect, "TEXT_PROBE_ROWS", 1)
    monkeypatch.setattr(stats, "SAMPLE", 2)
    summary = store.trace_stats("trace.text ILIKE '%o%'")
    assert summary.sampled and summary.count == 2
    exact = store.trace_stats("trace.text ILIKE '%東京の%'")  # the index answers: exact
    assert not exact.sampled and exact.count == 1
