"""The body-size limit of the JSON API and the forms, and gzip bodies at the OTLP receiver."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otelfeedback.server import create_app
from otelfeedback.server.limits import DEFAULT_MAX_API_BODY_BYTES, DRAIN_BYTES
from otelfeedback.store import FileStore
from tests.server.conftest import Seeded
from tests.server.live import (
    LiveServer,
    chunked,
    free_port,
    get,
    post_streaming,
    request,
    send_json,
)
from tests.server.test_otlp_receiver import make_request

LIMIT = 1024
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def store_location(tmp_path: Path) -> Path:
    """These tests look at the store's files: a file store (the shared tests cover both)."""
    return tmp_path / "store"


@pytest.fixture
def small_limit(seeded: Seeded) -> Iterator[LiveServer]:
    live = LiveServer(create_app(seeded.store, max_api_body_bytes=LIMIT))
    yield live
    live.close()


def _store_bytes(store: Path) -> int:
    return sum(f.stat().st_size for f in (store / "traces").glob("*"))


def test_api_and_form_bodies_over_the_limit_get_413_and_write_nothing(
    small_limit: LiveServer, seeded: Seeded
) -> None:
    url = small_limit.url
    assessments = f"/api/traces/{seeded.trace_id}/assessments"
    aid = get(url + assessments).json()["assessments"][0]["assessment_id"]
    before = _store_bytes(seeded.store)
    big = json.dumps({"value": "x" * LIMIT}).encode()
    page = get(url + f"/traces/{seeded.trace_id}")
    cookie = page.headers["set-cookie"].split(";")[0]
    form = ("name=q&value_type=text&reviewer=dev&value=" + "x" * LIMIT).encode()
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    replies = {
        "create": request("POST", url + assessments, big, JSON),
        "update": request("PATCH", url + f"{assessments}/{aid}", big, JSON),
        "override": request("POST", url + f"{assessments}/{aid}/override", big, JSON),
        "chunked": request("POST", url + assessments, iter([big[:600], big[600:]]), JSON),
        "form": request("POST", url + f"/traces/{seeded.trace_id}/assessments", form, form_headers),
    }
    for what, reply in replies.items():
        assert reply.status == 413, (what, reply.body[:200])
        assert reply.headers["x-content-type-options"] == "nosniff"
    for what in ("create", "update", "override", "chunked"):
        error = replies[what].json()["error"]
        assert error["code"] == "BODY_TOO_LARGE"
        assert str(LIMIT) in error["message"]
    assert "larger than 1024 bytes" in replies["form"].text  # the HTML error page
    assert _store_bytes(seeded.store) == before
    # a body within the limit is fine, and the OTLP receiver keeps its own (larger) limit
    assert send_json("POST", url + assessments, {"value": 1}).status == 201
    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "n" * (2 * LIMIT),
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
    }
    otlp = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
    assert request("POST", url + "/v1/traces", otlp, JSON).status == 200


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1)) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_300_mb_body_is_refused_early_and_the_server_stays_small(seeded: Seeded) -> None:
    port = free_port()
    code = "import sys; from otelfeedback.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "server", "--store", str(seeded.store), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("OTELFEEDBACK_")},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(f"http://127.0.0.1:{port}/api/health").status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        started = _peak_rss_mb(process.pid)
        path = f"/api/traces/{seeded.trace_id}/assessments"
        mb = b"x" * (1024 * 1024)
        total = 300 * 1024 * 1024
        declared = {**JSON, "Content-Length": str(total)}
        status, sent = post_streaming(port, path, declared, (mb for _ in range(300)))
        assert status == 413
        assert sent < 16 * 1024 * 1024  # refused on the declared length, before the body
        streamed = {**JSON, "Transfer-Encoding": "chunked"}
        status, sent = post_streaming(port, path, streamed, chunked(mb for _ in range(300)))
        assert status == 413
        # read up to the limit, then thrown away up to DRAIN_BYTES more, then refused
        assert sent < DEFAULT_MAX_API_BODY_BYTES + DRAIN_BYTES + 16 * 1024 * 1024
        assert _peak_rss_mb(process.pid) - started < 3 * DEFAULT_MAX_API_BODY_BYTES / 2**20
        assert get(f"http://127.0.0.1:{port}/api/traces").status == 200
    finally:
        process.terminate()
        process.wait(10)


def _otlp_json(name: str, trace_byte: str) -> bytes:
    span = {
        "traceId": trace_byte * 16,
        "spanId": "cd" * 8,
        "name": name,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
    }
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()


def test_every_member_of_a_gzip_body_is_read(empty_server: LiveServer, tmp_path: Path) -> None:
    # RFC 1952: a gzip file is one or more members. Two protobuf requests one after the
    # other are one request holding both (protobuf merges repeated fields): no span dropped.
    first, second = make_request(2), make_request(3)
    body = gzip.compress(first.SerializeToString()) + gzip.compress(second.SerializeToString())
    reply = request(
        "POST",
        empty_server.url + "/v1/traces",
        body,
        {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
    )
    assert reply.status == 200, reply.body
    store = FileStore(tmp_path / "store")  # empty_server's store (store_location)
    traces = store.search_traces()
    assert sorted(len(t.spans) for t in traces) == [2, 3]
    assert {t.trace_id for t in traces} == {
        r.resource_spans[0].scope_spans[0].spans[0].trace_id.hex() for r in (first, second)
    }

    gzip_json = {**JSON, "Content-Encoding": "gzip"}
    # RFC 1952: a gzip file is one or more members; this body has two, each a JSON
    # document... which together are not one JSON document, so it is refused whole
    two_documents = gzip.compress(_otlp_json("first", "a1")) + gzip.compress(
        _otlp_json("second", "b2")
    )
    reply = request("POST", empty_server.url + "/v1/traces", two_documents, gzip_json)
    assert reply.status == 400, reply.body
    # one document split across two members is one request, read whole
    document = _otlp_json("split", "c3")
    half = len(document) // 2
    split = gzip.compress(document[:half]) + gzip.compress(document[half:]) + b"\0\0"
    reply = request("POST", empty_server.url + "/v1/traces", split, gzip_json)
    assert reply.status == 200, reply.body
    assert "split" in [t.info.name for t in store.search_traces()]
    # garbage after the last member, or a member cut short: 400, nothing written
    for bad in (gzip.compress(document) + b"garbage", split[: len(split) // 2]):
        reply = request("POST", empty_server.url + "/v1/traces", bad, gzip_json)
        assert reply.status == 400
        assert "gzip" in json.loads(reply.body)["message"]
    assert len(store.search_traces()) == 3


def test_gzip_members_count_toward_the_limit_together(tmp_path: Path) -> None:
    document = _otlp_json("x" * 6000, "d4")
    live = LiveServer(create_app(tmp_path / "store", max_body_bytes=10_000))
    try:
        one = request(
            "POST",
            live.url + "/v1/traces",
            gzip.compress(document),
            {**JSON, "Content-Encoding": "gzip"},
        )
        assert one.status == 200
        # 2 members of 6 KB each: small compressed, 12 KB decompressed: over the limit
        half = len(document) // 2
        members = gzip.compress(document[:half] + b" " * 3000) + gzip.compress(
            b" " * 3000 + document[half:]
        )
        assert len(members) < 10_000
        two = request(
            "POST", live.url + "/v1/traces", members, {**JSON, "Content-Encoding": "gzip"}
        )
        assert two.status == 413
    finally:
        live.close()
