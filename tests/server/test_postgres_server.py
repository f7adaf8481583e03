"""The server on PostgreSQL under faults: several server processes on one database, the same
request through two servers, a database that goes away and comes back, a connection dropped
in the middle of an ingest, retention. Every other server test runs on PostgreSQL too."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelfeedback.errors import NotFoundError
from otelfeedback.server import create_app
from otelfeedback.store.sql import SqlStore
from otelfeedback.store.sql.ingest import lock_key
from tests.postgres import Cluster, start_cluster
from tests.server.live import LiveServer, free_port, get, request

pytestmark = pytest.mark.postgres
PB = {"Content-Type": "application/x-protobuf"}


def otlp(trace: int, spans: int, start: int = 0) -> ExportTraceServiceRequest:
    """A request of ``spans`` spans of one trace (ids from ``trace``)."""
    req = ExportTraceServiceRequest()
    resource = req.resource_spans.add()
    attribute = resource.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "faults"
    scope = resource.scope_spans.add()
    for n in range(spans):
        span: Span = scope.spans.add()
        span.trace_id = trace.to_bytes(16, "big")
        span.span_id = (trace * 1000 + start + n + 1).to_bytes(8, "big")
        span.name = f"span-{start + n}"
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + n
        span.end_time_unix_nano = 1_700_000_000_000_000_000 + n + 1000
    return req


def trace_id(n: int) -> str:
    return f"{n:032x}"


def post(url: str, req: ExportTraceServiceRequest) -> Any:
    return request("POST", url + "/v1/traces", req.SerializeToString(), PB)


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this module's own, since its tests stop and restart it."""
    cluster = start_cluster()
    yield cluster
    cluster.destroy()


@pytest.fixture
def own_url(own_cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"faults_{abs(hash(request.node.name)) % 10**8}"
    url = own_cluster.create_database(name)
    yield url
    own_cluster.drop_database(name)


def test_a_database_that_goes_away_gets_503_then_works_again_without_a_restart(
    own_cluster: Cluster, own_url: str
) -> None:
    store = SqlStore(own_url, pool_timeout=3)
    live = LiveServer(create_app(store))
    try:
        assert post(live.url, otlp(1, 3)).status == 200
        own_cluster.stop()
        started = time.monotonic()
        reply = post(live.url, otlp(2, 2))
        assert reply.status == 503
        assert time.monotonic() - started < 15
        assert reply.headers["retry-after"] == "5"
        status = Status()
        status.ParseFromString(reply.body)
        assert status.code == 14 and "unavailable" in status.message
        page = get(live.url + "/api/traces")
        assert page.status == 503
        assert page.json()["error"]["code"] == "STORE_UNAVAILABLE"
        assert "postgres@" in page.json()["error"]["message"]  # the URL, without a password
        own_cluster.start()
        assert post(live.url, otlp(2, 2)).status == 200  # the exporter's retry
        traces = get(live.url + "/api/traces").json()["traces"]
        assert sorted(t["info"]["span_count"] for t in traces) == [2, 3]
    finally:
        live.close()
        store.close()


def _backend_waiting_on_lock(cluster: Cluster, database: str, statement: str) -> int | None:
    rows = cluster.sql(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'otelfeedback' AND wait_event_type = 'Lock' "
        "AND strpos(query, %s) > 0",
        database,
        (statement,),
    )
    return int(rows[0][0]) if rows else None  # type: ignore[call-overload]


def _terminate_when_waiting(cluster: Cluster, database: str, statement: str) -> None:
    """Terminate the server's connection that waits on a lock running ``statement`` (a part
    of its SQL: the request's insert, or the indexer's work, never the other one)."""
    deadline = time.monotonic() + 20
    while (pid := _backend_waiting_on_lock(cluster, database, statement)) is None:
        assert time.monotonic() < deadline, f"nothing reached the lock with {statement!r}"
        time.sleep(0.05)
    cluster.sql(f"SELECT pg_terminate_backend({pid})", database)


def test_a_connection_dropped_mid_request_is_a_503_and_stores_nothing_of_it(
    own_cluster: Cluster, own_url: str
) -> None:
    import psycopg

    database = own_url.rsplit("/", 1)[1]
    live = LiveServer(create_app(own_url))
    try:
        assert post(live.url, otlp(1, 1)).status == 200  # schema, partitions, a first trace
        blocker = psycopg.connect(own_url)
        blocker.execute("LOCK TABLE ingest_queue IN ACCESS EXCLUSIVE MODE")
        replies: list[Any] = []
        sender = threading.Thread(target=lambda: replies.append(post(live.url, otlp(7, 5))))
        sender.start()
        _terminate_when_waiting(own_cluster, database, "INSERT INTO ingest_queue")
        sender.join(30)
        blocker.rollback()
        blocker.close()
        assert replies[0].status == 503
        assert get(live.url + f"/api/traces/{trace_id(7)}").status == 404
        assert post(live.url, otlp(7, 5)).status == 200  # the client's retry
        assert get(live.url + f"/api/traces/{trace_id(7)}").json()["info"]["span_count"] == 5
    finally:
        live.close()


def test_a_connection_dropped_while_indexing_loses_nothing_acknowledged(
    own_cluster: Cluster, own_url: str
) -> None:
    import psycopg

    database = own_url.rsplit("/", 1)[1]
    live = LiveServer(create_app(own_url))
    try:
        assert post(live.url, otlp(1, 1)).status == 200
        assert get(live.url + f"/api/traces/{trace_id(1)}").status == 200
        blocker = psycopg.connect(own_url, autocommit=True)
        blocker.execute("SELECT pg_advisory_lock(%s)", (lock_key(trace_id(7)),))
        assert post(live.url, otlp(7, 5)).status == 200  # durable, not indexed yet
        _terminate_when_waiting(own_cluster, database, "pg_advisory_xact_lock(k)")  # indexing
        blocker.close()
        deadline = time.monotonic() + 20
        while (reply := get(live.url + f"/api/traces/{trace_id(7)}")).status != 200:
            assert time.monotonic() < deadline, reply.text
            time.sleep(0.1)
        assert reply.json()["info"]["span_count"] == 5
        assert own_cluster.sql("SELECT count(*) FROM ingest_queue", database) == [(0,)]
    finally:
        live.close()


def test_a_request_that_cannot_be_indexed_is_kept_aside_with_its_error(postgres_url: str) -> None:
    with SqlStore(postgres_url) as store:
        store.enqueue_line(b'{"resourceSpans": "not a list"}\n')
        store.enqueue_line(_line(otlp(3, 2)))
        queued = store.index_status()  # as the traces page and /api/health report it
        assert not queued.up_to_date and queued.pending_bytes > 30
        assert store.get_trace(trace_id(3)).info.span_count == 2  # the read indexed the queue
        status = store.index_status()
        assert status.up_to_date and status.skipped_lines == 1
        ((where, row_id, reason),) = status.last_skipped
        assert where == "ingest_rejected" and row_id >= 1 and "Error" in reason
        rows = store._pool.run(
            lambda conn: conn.execute("SELECT line, error FROM ingest_rejected").fetchall()
        )
    assert [bytes(line) for line, _ in rows] == [b'{"resourceSpans": "not a list"}\n']
    assert "OTLPDecodeError" in rows[0][1] or "Error" in rows[0][1]


def test_with_an_index_budget_a_read_answers_without_waiting_for_the_queue(
    postgres_url: str,
) -> None:
    """The server's setting: under an ingestion backlog its pages answer with what is
    indexed, and the background indexer brings in the rest."""
    with SqlStore(postgres_url, index_budget=0) as store:
        store.enqueue_line(_line(otlp(3, 2)))
        with pytest.raises(NotFoundError):  # acknowledged, not indexed: the read did not wait
            store.get_trace(trace_id(3))
        assert not store.index_status().up_to_date
        store.start_indexer()
        deadline = time.monotonic() + 20
        while not store.index_status().up_to_date:
            assert time.monotonic() < deadline, "the background indexer did not catch up"
            time.sleep(0.05)
        assert store.get_trace(trace_id(3)).info.span_count == 2
    with SqlStore(postgres_url) as store:  # no budget: every read sees every queued span
        store.enqueue_line(_line(otlp(4, 3)))
        assert store.get_trace(trace_id(4)).info.span_count == 3


def test_two_servers_taking_the_same_requests_store_each_span_once(postgres_url: str) -> None:
    first, second = LiveServer(create_app(postgres_url)), LiveServer(create_app(postgres_url))
    try:
        requests = [otlp(n, 6) for n in range(1, 21)] + [otlp(1, 3, start=6)]
        replies: list[int] = []

        def send(server: LiveServer) -> None:
            replies.extend(post(server.url, req).status for req in requests)

        threads = [threading.Thread(target=send, args=(s,)) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert replies == [200] * 2 * len(requests)
        traces = get(first.url + "/api/traces?max_results=100&include_spans=false").json()
        counts = {t["info"]["trace_id"]: t["info"]["span_count"] for t in traces["traces"]}
        assert counts == {trace_id(n): 9 if n == 1 else 6 for n in range(1, 21)}
        with SqlStore(postgres_url) as store:
            assert len(store.get_trace(trace_id(1)).spans) == 9
    finally:
        first.close()
        second.close()


def test_server_with_two_worker_processes_shares_one_database(postgres_url: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTELFEEDBACK_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, otelfeedback.cli as c; sys.exit(c.main())",
            "server",
            "--store",
            postgres_url,
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(url + "/api/traces").status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        replies: list[int] = []

        def send(offset: int) -> None:
            replies.extend(post(url, otlp(offset + n, 4)).status for n in range(25))

        threads = [threading.Thread(target=send, args=(k * 100,)) for k in range(1, 5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert replies == [200] * 100
        store = SqlStore(postgres_url)
        assert len(store.search_traces(max_results=None, include_spans=False)) == 100
        workers = store._pool.run(
            lambda conn: conn.execute(
                "SELECT count(DISTINCT pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'otelfeedback'"
            ).fetchone()[0]
        )
        assert workers >= 3  # two workers' pools and this one
        store.close()
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert "2 worker(s)" in out


def test_retention_prunes_old_traces_while_the_server_runs(postgres_url: str) -> None:
    old = otlp(1, 2)
    for span in old.resource_spans[0].scope_spans[0].spans:
        assert span.start_time_unix_nano < time.time_ns() - 86_400_000_000_000  # 2023
    young = otlp(2, 2)
    now = time.time_ns()
    for span in young.resource_spans[0].scope_spans[0].spans:
        span.start_time_unix_nano, span.end_time_unix_nano = now, now + 1000
    with SqlStore(postgres_url) as store:
        store.append_request(_json(old))
        store.append_request(_json(young))
    live = LiveServer(create_app(postgres_url, retention_ms=86_400_000))
    try:
        deadline = time.monotonic() + 20
        while len(get(live.url + "/api/traces").json()["traces"]) != 1:
            assert time.monotonic() < deadline, "retention did not run"
            time.sleep(0.1)
        assert get(live.url + f"/api/traces/{trace_id(2)}").status == 200
    finally:
        live.close()


def test_retention_on_a_file_store_is_refused(tmp_path: Path) -> None:
    from otelfeedback.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="pruning needs a PostgreSQL store"):
        create_app(tmp_path, retention_ms=1000)


def _line(req: ExportTraceServiceRequest) -> bytes:
    from otelfeedback.server.otlp_codec import to_line

    return to_line(req)


def _json(req: ExportTraceServiceRequest) -> dict[str, Any]:
    from otelfeedback._internal.otlp_json.encode import encode_request

    return encode_request(req)
