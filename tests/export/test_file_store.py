"""The JSON file store writer: valid OTLP/JSON lines, safe with several processes."""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import multiprocessing
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.trace.v1 import trace_pb2

import otelfeedback
from otelfeedback._internal.otlp_json.segments import SegmentWriter, list_segments
from otelfeedback.export.file_store import LINE_SPANS


def parse_otlp_json_line(line: str) -> trace_pb2.TracesData:
    """Decode a line with opentelemetry-proto's JSON parser. OTLP/JSON writes ids as hex
    (protobuf's JSON mapping expects base64), so ids are converted first; any unknown or
    mistyped field makes ``Parse`` fail."""
    data = json.loads(line)

    def fix(obj: Any) -> None:
        if isinstance(obj, dict):
            for key in ("traceId", "spanId", "parentSpanId"):
                if key in obj:
                    obj[key] = base64.b64encode(bytes.fromhex(obj[key])).decode()
            for value in obj.values():
                fix(value)
        elif isinstance(obj, list):
            for value in obj:
                fix(value)

    fix(data)
    message = trace_pb2.TracesData()
    json_format.ParseDict(data, message)
    return message


def read_lines(store: Path) -> list[str]:
    lines = []
    for _, path in list_segments(store / "traces"):
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    return lines


def test_spans_reach_the_store_as_valid_otlp_json(tmp_path: Path) -> None:
    otelfeedback.configure(store=tmp_path, service_name="svc")

    @otelfeedback.trace(span_type="RETRIEVER")
    def retrieve(q: str) -> list[str]:
        return ["doc"]

    @otelfeedback.trace
    def app(q: str) -> str:
        retrieve(q)
        raise_and_catch()
        return "answer"

    def raise_and_catch() -> None:
        try:
            with otelfeedback.start_span("fails"):
                raise ValueError("x")
        except ValueError:
            pass

    with otelfeedback.using_tags(["t1"]):
        app("hello ünïcode")
    assert otelfeedback.flush(5)
    lines = read_lines(tmp_path)
    assert lines
    spans = {}
    for line in lines:
        message = parse_otlp_json_line(line)
        for rs in message.resource_spans:
            resource = {kv.key: kv.value.string_value for kv in rs.resource.attributes}
            assert resource["service.name"] == "svc"
            for ss in rs.scope_spans:
                assert ss.scope.name == "otelfeedback"
                for span in ss.spans:
                    spans[span.name.rsplit(".", 1)[-1]] = span
    assert set(spans) == {"app", "retrieve", "fails"}
    app_span, retrieve_span = spans["app"], spans["retrieve"]
    assert retrieve_span.parent_span_id == app_span.span_id
    assert retrieve_span.trace_id == app_span.trace_id
    attrs = {kv.key: kv.value for kv in app_span.attributes}
    assert json.loads(attrs["input.value"].string_value) == {"q": "hello ünïcode"}
    assert [v.string_value for v in attrs["tag.tags"].array_value.values] == ["t1"]
    assert spans["fails"].status.code == trace_pb2.Status.STATUS_CODE_ERROR
    assert spans["fails"].events[0].name == "exception"
    assert app_span.start_time_unix_nano <= retrieve_span.start_time_unix_nano
    assert app_span.end_time_unix_nano >= retrieve_span.end_time_unix_nano


def _write_spans(store: str, worker: int, count: int) -> None:
    otelfeedback.configure(store=store, export_batch_size=7)

    @otelfeedback.trace
    def unit(worker: int, i: int) -> str:
        return "x" * 200

    for i in range(count):
        unit(worker, i)
    otelfeedback.flush(30)


def test_several_processes_writing_one_store_lose_and_tear_nothing(tmp_path: Path) -> None:
    workers, per_worker = 4, 300
    ctx = multiprocessing.get_context("spawn")
    env_before = dict(os.environ)
    os.environ["OTELFEEDBACK_FILE_MAX_BYTES"] = "20000"  # force many segment switches
    try:
        procs = [
            ctx.Process(target=_write_spans, args=(str(tmp_path), w, per_worker))
            for w in range(workers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
            assert p.exitcode == 0
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    seen = set()
    for line in read_lines(tmp_path):
        message = parse_otlp_json_line(line)  # every line intact
        for rs in message.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    attrs = {kv.key: kv.value.string_value for kv in span.attributes}
                    inputs = json.loads(attrs["input.value"])
                    seen.add((inputs["worker"], inputs["i"]))
    assert seen == {(w, i) for w in range(workers) for i in range(per_worker)}
    segments = list_segments(tmp_path / "traces")
    assert len(segments) > 3
    # Full segments are not written to again: only the newest may be under the limit.
    assert all(path.stat().st_size >= 20000 for _, path in segments[:-1])


def test_a_torn_last_line_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path / "traces", max_bytes=1 << 20)
    writer.append(b'{"resourceSpans":[]}\n')
    with open(tmp_path / "traces" / "segment-000001.jsonl", "ab") as f:
        f.write(b'{"resourceSpans":[{"reso')  # a writer died mid-line
    writer.append(b'{"resourceSpans":[]}\n')
    lines = (tmp_path / "traces" / "segment-000001.jsonl").read_bytes().split(b"\n")
    assert lines == [
        b'{"resourceSpans":[]}',
        b'{"resourceSpans":[{"reso',
        b'{"resourceSpans":[]}',
        b"",
    ]


def test_a_large_batch_is_written_as_several_whole_lines_in_span_order(tmp_path: Path) -> None:
    otelfeedback.configure(store=tmp_path, export_batch_size=512)

    @otelfeedback.trace
    def step(i: int) -> int:
        return i

    count = 3 * LINE_SPANS + 5
    for i in range(count):
        step(i)
    otelfeedback.flush(30)
    lines = read_lines(tmp_path)
    order = []
    for line in lines:
        for rs in parse_otlp_json_line(line).resource_spans:
            for ss in rs.scope_spans:
                assert len(ss.spans) <= LINE_SPANS
                for span in ss.spans:
                    attrs = {kv.key: kv.value.string_value for kv in span.attributes}
                    order.append(json.loads(attrs["input.value"])["i"])
    assert order == list(range(count))
    assert len(lines) >= 4


def test_a_store_directory_removed_while_running_is_made_again(tmp_path: Path) -> None:
    traces = tmp_path / "store" / "traces"
    writer = SegmentWriter(traces, max_bytes=1 << 20)
    writer.append(b'{"resourceSpans":[]}\n')
    shutil.rmtree(tmp_path / "store")
    writer.append([b'{"a":1}\n', b'{"b":2}\n'])
    assert (traces / "segment-000001.jsonl").read_bytes() == b'{"a":1}\n{"b":2}\n'
    # It locks the new directory's lock file, which other writers use.
    with writer.exclusive():
        with open(traces / ".lock", "rb") as lock:
            with pytest.raises(BlockingIOError):
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    writer.close()


def test_a_writer_follows_another_writer_to_a_newer_segment(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    roomy = SegmentWriter(traces, max_bytes=1 << 20)
    tight = SegmentWriter(traces, max_bytes=10)  # moves on after every line
    roomy.append(b'{"first":1}\n')
    tight.append(b'{"second":2}\n')  # segment 1 is past its bound: it starts segment 2
    roomy.append(b'{"third":3}\n')  # follows to the newest segment, not back to 1
    assert [p.read_bytes() for _, p in list_segments(traces)] == [
        b'{"first":1}\n',
        b'{"second":2}\n{"third":3}\n',
    ]
    roomy.close()
    tight.close()


def test_an_unwritable_store_logs_and_never_raises_into_the_app(
    tmp_path: Path, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store directory should be")
    config = otelfeedback.configure(store=blocker)

    @otelfeedback.trace
    def f() -> int:
        return 1

    assert f() == 1
    otelfeedback.flush(5)
    assert config.stats()["FileStoreSpanExporter"]["failed"] == 1
    assert "writing spans to the file store" in caplog.text


def test_a_lasting_failure_keeps_warning_at_a_bounded_rate(
    tmp_path: Path, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    """Not only the first failure: the same warning comes back once per interval (60 s by
    default; 0.3 s here), saying how often it happened meanwhile."""
    from otelfeedback._internal import safety

    monkeypatch.setenv("OTELFEEDBACK_RAISE_INTERNAL_ERRORS", "false")
    monkeypatch.setattr(safety, "WARN_INTERVAL_SECONDS", 0.3)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store directory should be")
    otelfeedback.configure(store=blocker)

    @otelfeedback.trace
    def f() -> int:
        return 1

    def fail_once() -> list[logging.LogRecord]:
        caplog.clear()
        f()
        otelfeedback.flush(5)
        return [r for r in caplog.records if "writing spans to the file store" in r.getMessage()]

    with caplog.at_level(logging.DEBUG, "otelfeedback"):
        assert [r.levelno for r in fail_once()] == [logging.WARNING]
        assert [r.levelno for r in fail_once()] == [logging.DEBUG]
        assert [r.levelno for r in fail_once()] == [logging.DEBUG]
        time.sleep(0.35)
        again = fail_once()
    assert [r.levelno for r in again] == [logging.WARNING]
    assert "and 2 more times since the last warning" in again[0].getMessage()


def test_spans_are_flushed_at_interpreter_exit(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import otelfeedback\n"
        f"otelfeedback.configure(store={str(tmp_path)!r}, export_delay_ms=60000)\n"
        "@otelfeedback.trace\n"
        "def f(): return 1\n"
        "f()\n"  # no flush: the exit handler must export it
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    lines = read_lines(tmp_path)
    assert len(lines) == 1
    assert parse_otlp_json_line(lines[0]).resource_spans[0].scope_spans[0].spans[0].name == "f"
