"""``trace_stats`` (both stores): the counts, percentiles and shares the summary strip shows."""

from __future__ import annotations

from otelfeedback.store import FileStore
from tests.store.conftest import Backend
from tests.store.otlp_fixtures import line, sid, span, tid


def test_stats_count_errors_latency_and_thumbs(sample_store: FileStore) -> None:
    stats = sample_store.trace_stats(buckets=5)
    assert stats.count == 5
    assert stats.errors == 1
    assert stats.error_rate == 0.2
    durations = sorted(t.info.execution_time_ms for t in sample_store.search_traces())
    assert stats.p50_ms == durations[2]
    assert stats.p95_ms == durations[-1]
    # user_feedback: one true (trace 1), one false (trace 2)
    assert (stats.thumbs_up, stats.thumbs_down) == (1, 1)
    assert stats.thumbs_down_share == 0.5
    assert sum(b.count for b in stats.buckets) == 5
    assert sum(b.errors for b in stats.buckets) == 1
    assert sum(b.thumbs_down for b in stats.buckets) == 1


def test_stats_follow_the_filter(sample_store: FileStore) -> None:
    stats = sample_store.trace_stats("trace.status = 'ERROR'")
    assert (stats.count, stats.errors, stats.thumbs_down) == (1, 1, 1)
    empty = sample_store.trace_stats("trace.name = 'nothing'")
    assert (empty.count, empty.p50_ms, empty.error_rate) == (0, None, None)
    assert sum(b.count for b in empty.buckets) == 0  # slices still span the store


def test_page_token_links_any_page_of_a_search(sample_store: FileStore) -> None:
    everything = [t.info.trace_id for t in sample_store.search_traces(max_results=None)]
    token = sample_store.page_token(2)
    assert token is not None
    page = sample_store.search_traces(max_results=2, page_token=token)
    assert [t.info.trace_id for t in page] == everything[2:4]
    assert sample_store.page_token(0) is None


def test_first_errors_say_what_went_wrong_on_both_stores(backend: Backend) -> None:
    failed = span(tid(1), sid(1), "root", status=2)
    failed["status"]["message"] = "upstream timed out"
    backend.write(
        line(
            [
                failed,
                span(tid(2), sid(2), "quiet failure", start_ms=1, status=2),
                span(tid(3), sid(3), "fine", start_ms=2),
            ]
        )
    )
    store = backend.store()
    assert store.first_errors([tid(1), tid(2), tid(3), tid(4)]) == {
        tid(1): "upstream timed out",
        tid(2): "quiet failure failed",
    }
    assert store.first_errors([]) == {}
