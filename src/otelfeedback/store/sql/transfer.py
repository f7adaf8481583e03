"""``otelfeedback store copy SRC DST``: a file store into PostgreSQL and back, resumable.

What moves is everything the stores read and return: every span (ids, parent, name, kind,
times, attributes, events, links, status, resource, scope), the assessment log (so the
resolved assessments are the same, overrides and deletions included), and every version of
every record that is not a span (sequences, authors, times, tombstones). OTLP fields no
store reads (trace state, flags, dropped counts, scope attributes, schema URLs) are not
carried. Assessment records leave PostgreSQL as carrier spans with their original span ids.

Resuming: the position reached is saved with the destination after each batch (a
``store_settings`` row in PostgreSQL, ``copy-progress.json`` in a file store), and every
write is idempotent (spans by trace and span id, assessment records by key, records by
sequence), so a copy that stopped picks up where it was and never duplicates anything.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otelfeedback import config
from otelfeedback._internal.otlp_json.decode import OTLPDecodeError, SpanRecord, iter_spans
from otelfeedback._internal.otlp_json.encode import dumps_line, encode_records
from otelfeedback._internal.otlp_json.segments import SegmentWriter, list_segments
from otelfeedback.assessments.placement import Target
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.store import chunk, reading, record_batches, record_index, records
from otelfeedback.store.carriers import carrier_line
from otelfeedback.store.file_store import FileStore
from otelfeedback.store.sql import record_table
from otelfeedback.store.sql.store import SqlStore

#: Spans per batch (one transaction in PostgreSQL, one line in a file store).
BATCH_SPANS = 5000
PROGRESS_FILE = "copy-progress.json"
#: Called with (what, done, total): "spans" in bytes or traces, "records" in versions.
Progress = Callable[[str, int, int], None]


@dataclass
class CopyStats:
    spans: int = 0
    assessment_records: int = 0
    records: int = 0
    resumed: bool = False


def copy_store(
    source: FileStore | SqlStore, target: FileStore | SqlStore, progress: Progress | None = None
) -> CopyStats:
    """Copy ``source`` into ``target`` (a file store into PostgreSQL, or back), resuming a
    copy that stopped.

    Raises:
        InvalidArgumentError: both are file stores, or both the same database.
        StoreUnavailableError: a database cannot be reached (run it again to resume).
    """
    report = progress or (lambda what, done, total: None)
    if isinstance(source, FileStore) and isinstance(target, FileStore):
        raise InvalidArgumentError(
            "target", "copying a file store to a file store: copy the directory"
        )
    if isinstance(source, SqlStore) and isinstance(target, SqlStore) and source.url == target.url:
        raise InvalidArgumentError("target", "the source and the target are the same database")
    state = _State(source, target)
    stats = CopyStats(resumed=bool(state.position))
    if isinstance(source, FileStore):
        batches: Iterator[tuple[list[SpanRecord], list[bytes], list[records.Record]]] = _from_files(
            source, state, report
        )
    else:
        batches = _from_database(source, state, report)
    for spans, carriers, versions in batches:
        _write(target, spans, carriers, versions, stats)
        state.save()
    return stats


# -- where a copy is ---------------------------------------------------------------------
class _State:
    """The position a copy reached, kept with the target under the source's name."""

    def __init__(self, source: FileStore | SqlStore, target: FileStore | SqlStore) -> None:
        self.target = target
        name = str(Path(source.path).resolve()) if isinstance(source, FileStore) else source.path
        self.key = f"copy:{name}"
        self.position: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        if isinstance(self.target, FileStore):
            path = self.target.path / PROGRESS_FILE
            if not path.exists():
                return {}
            saved: dict[str, Any] = json.loads(path.read_text()).get(self.key, {})
            return saved
        self.target._ensure_ready()  # a new database: migrated first
        row = self.target._pool.run(
            lambda conn: conn.execute(
                "SELECT value FROM store_settings WHERE key = %s", (self.key,)
            ).fetchone()
        )
        return {} if row is None else dict(json.loads(row[0]))

    def save(self) -> None:
        text = json.dumps(self.position)
        if isinstance(self.target, FileStore):
            path = self.target.path / PROGRESS_FILE
            saved = json.loads(path.read_text()) if path.exists() else {}
            saved[self.key] = self.position
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(saved))
            os.replace(temporary, path)
            return
        self.target._pool.run(
            lambda conn: conn.execute(
                "INSERT INTO store_settings VALUES (%s, %s) ON CONFLICT (key) "
                "DO UPDATE SET value = EXCLUDED.value",
                (self.key, text),
            )
        )


# -- reading a file store -------------------------------------------------------------------
def _from_files(
    source: FileStore, state: _State, report: Progress
) -> Iterator[tuple[list[SpanRecord], list[bytes], list[records.Record]]]:
    segments = list_segments(source.traces_dir)
    total = sum(path.stat().st_size for _, path in segments)
    done_bytes = 0
    for _, path in segments:
        offset = int(state.position.get("segments", {}).get(path.name, 0))
        done_bytes += offset
        batch: list[SpanRecord] = []
        with open(path, "rb") as handle:
            handle.seek(offset)
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break  # a line still being written: the next copy takes it
                offset += len(raw)
                done_bytes += len(raw)
                try:
                    batch.extend(iter_spans(json.loads(raw)))
                except (ValueError, OTLPDecodeError, RecursionError):
                    pass  # the index skips it too (with a warning); nothing to copy
                if len(batch) >= BATCH_SPANS:
                    state.position.setdefault("segments", {})[path.name] = offset
                    yield batch, [], []
                    report("spans", done_bytes, total)
                    batch = []
        state.position.setdefault("segments", {})[path.name] = offset
        yield batch, [], []
        report("spans", min(done_bytes, total), total)
    yield from _records_from_files(source, state, report)


def _records_from_files(
    source: FileStore, state: _State, report: Progress
) -> Iterator[tuple[list[SpanRecord], list[bytes], list[records.Record]]]:
    done_seq = int(state.position.get("records_seq", 0))
    versions: list[records.Record] = []
    for _, path in list_segments(source.path / record_index.RECORDS_DIR):
        with open(path, "rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n") or not raw.strip():
                    continue
                try:
                    decoded = record_batches.decode_line(raw)
                    versions.extend(r for r in decoded if r.sequence > done_seq)
                except (ValueError, RecursionError):
                    continue
    versions.sort(key=lambda r: r.sequence)
    for start in range(0, len(versions), BATCH_SPANS):
        part = versions[start : start + BATCH_SPANS]
        state.position["records_seq"] = part[-1].sequence
        yield [], [], part
        report("records", start + len(part), len(versions))


# -- reading a database ---------------------------------------------------------------------
def _from_database(
    source: SqlStore, state: _State, report: Progress
) -> Iterator[tuple[list[SpanRecord], list[bytes], list[records.Record]]]:
    after = int(state.position.get("trace_key", 0))
    total = source._read(lambda conn: conn.execute("SELECT count(*) FROM traces").fetchone()[0])
    done = source._read(
        lambda conn: conn.execute(
            "SELECT count(*) FROM traces WHERE id <= %s", (after,)
        ).fetchone()[0]
    )
    while True:
        keys, spans, carriers = source._read(functools.partial(_database_batch, after=after))
        if not keys:
            break
        after = keys[-1]
        done += len(keys)
        state.position["trace_key"] = after
        yield spans, carriers, []
        report("spans", done, total)
    if not state.position.get("orphans_done"):
        orphans = source._read(_orphan_carriers)
        state.position["orphans_done"] = True
        yield [], orphans, []
    done_seq = int(state.position.get("records_seq", 0))
    count = source._read(
        lambda conn: conn.execute(
            "SELECT count(*) FROM records WHERE seq > %s", (done_seq,)
        ).fetchone()[0]
    )
    copied = 0
    while True:
        rows = source._read(functools.partial(_records_after, done_seq=done_seq))
        if not rows:
            break
        part = [record_table.record(row) for row in rows]
        done_seq = part[-1].sequence
        copied += len(part)
        state.position["records_seq"] = done_seq
        yield [], [], part
        report("records", copied, count)


def _records_after(conn: Any, done_seq: int) -> list[Any]:
    return list(
        conn.execute(
            f"SELECT {record_table.COLUMNS} FROM records WHERE seq > %s ORDER BY seq LIMIT %s",
            (done_seq, BATCH_SPANS),
        ).fetchall()
    )


def _database_batch(conn: Any, after: int) -> tuple[list[int], list[SpanRecord], list[bytes]]:
    """The spans and assessment carriers of the next traces after key ``after``, up to about
    ``BATCH_SPANS`` spans."""
    rows = conn.execute(
        "SELECT id, trace_id, root_span_id, span_count FROM traces WHERE id > %s ORDER BY id "
        "LIMIT %s",
        (after, max(1, BATCH_SPANS // 5)),
    ).fetchall()
    if not rows:
        return [], [], []
    keys = [row[0] for row in rows]
    trace_ids = {row[0]: row[1] for row in rows}
    spans: list[SpanRecord] = [
        reading.span(trace_ids[row[0]], row)
        for row in conn.execute(
            f"SELECT {reading.SPAN_COLUMNS} FROM spans WHERE tid = ANY(%s) ORDER BY tid, ord",
            (keys,),
        )
    ]
    roots = {row[1]: row[2] for row in rows}
    carriers = _carriers(conn, "trace_id = ANY(%s)", (list(roots),), roots)
    return keys, spans, carriers


def _orphan_carriers(conn: Any) -> list[bytes]:
    """Carriers of assessment records whose trace is not stored."""
    return _carriers(
        conn,
        "NOT EXISTS (SELECT 1 FROM traces t WHERE t.trace_id = r.trace_id)",
        (),
        {},
    )


def _carriers(conn: Any, where: str, params: tuple[Any, ...], roots: dict[str, Any]) -> list[bytes]:
    """One OTLP/JSON line per assessment record carried by a carrier span (records carried
    as events of a span travel with that span)."""
    lines = []
    for trace_id, key, time_ns, record in conn.execute(
        f"SELECT trace_id, key, time_ns, record FROM assessment_records r WHERE {where} "
        "ORDER BY trace_id, time_ns, seq",
        params,
    ):
        if ":" in key:
            continue  # an event of a stored span
        rec = chunk.stored_record(key, time_ns, record)
        target = rec.fields.get("span_id") or roots.get(trace_id)
        # (no time range: the carrier keeps the record's own time)
        data = json.loads(carrier_line(rec, Target(target), "otelfeedback"))
        data["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = key
        lines.append(dumps_line(data))
    return lines


# -- writing ----------------------------------------------------------------------------------
def _write(
    target: FileStore | SqlStore,
    spans: list[SpanRecord],
    carriers: list[bytes],
    versions: list[records.Record],
    stats: CopyStats,
) -> None:
    if isinstance(target, SqlStore):
        if spans:
            stats.spans += target.append_spans(spans)
        for line in carriers:
            target.append_line(line)
            stats.assessment_records += 1
        if versions:
            stats.records += target.import_records(versions)
        return
    writer = target.segment_writer()
    if spans:
        writer.append(dumps_line(encode_records(spans)))
        stats.spans += len(spans)
    for line in carriers:
        writer.append(line)
        stats.assessment_records += 1
    if versions:
        max_bytes = int(config.resolve("file_max_bytes", None))
        records_writer = SegmentWriter(target.path / record_index.RECORDS_DIR, max_bytes)
        try:
            texts = [records.json_text(r.data) for r in versions]
            records_writer.append(record_batches.encode_line(versions, texts))
        finally:
            records_writer.close()
        stats.records += len(versions)
