"""The records store of the file store (``FileStore`` inherits it): batches appended to
``<store>/records/`` under the directory's lock, read through the SQLite index
(``record_index.py``). Model and rules: ``records.py``, ``record_checks.py``,
``record_batches.py``."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from otelfeedback import config
from otelfeedback._internal.otlp_json.segments import SegmentWriter
from otelfeedback.errors import NotFoundError
from otelfeedback.store import record_batches, record_checks, record_index
from otelfeedback.store.records import Record, RecordMethods, RecordWrite, json_text


class FileRecords(RecordMethods):
    """The record methods of ``FileStore``, over the attributes it sets up."""

    path: Path
    records_dir: Path
    _lock: threading.RLock
    _conn: sqlite3.Connection | None
    _records_writer: SegmentWriter | None

    def _connect(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _empty_index(self) -> sqlite3.Connection:
        raise NotImplementedError

    def append_records(
        self, writes: Sequence[RecordWrite], *, author: str | None = None
    ) -> list[Record]:
        """Append a batch of record versions, all or nothing: one line in
        ``<store>/records/``, written under the directory's lock after the index has caught
        up, so versions and sequences are assigned atomically across processes.

        Args:
            writes: the versions to write, in order (the same record may appear twice).
            author: who writes (kept as ``updated_by``, and ``created_by`` of new records).

        Returns:
            The stored records, in the order of ``writes``.

        Raises:
            InvalidArgumentError: a write is malformed (the message names ``records[i]``).
            ConflictError: an ``expected_version`` is not the stored one; nothing is written.
            NotFoundError: a deletion of a record that does not exist; nothing is written.
        """
        batch = record_checks.check_writes(writes)
        author = record_checks.check_author(author)
        texts = [json_text(w.data) for w in batch]
        with self._lock:
            conn = self._connect()
            if self._records_writer is None:
                max_bytes = int(config.resolve("file_max_bytes", None))
                self._records_writer = SegmentWriter(self.records_dir, max_bytes)
            with self._records_writer.exclusive() as segments:
                record_index.update(conn, self.records_dir)
                heads = record_index.heads(conn, ((w.kind, w.id) for w in batch))
                first = record_index.next_sequence(conn)
                now_ms = time.time_ns() // 1_000_000
                stored = record_batches.plan(batch, heads, first, now_ms, author)
                texts = ["{}" if r.deleted else t for r, t in zip(stored, texts)]
                appended = segments.write(record_batches.encode_line(stored, texts))
                if not record_index.add_written(conn, appended, stored, texts, heads):
                    record_index.update(conn, self.records_dir)
        return stored

    def get_record(self, kind: str, record_id: str, version: int | None = None) -> Record:
        """The latest version of a record (or the given ``version``, deleted or not).

        Raises:
            NotFoundError: no such record or version, or the latest version is a deletion.
            InvalidArgumentError: a malformed kind, id or version.
        """
        record_checks.check_kind(kind)
        record_checks.check_id(record_id)
        record_checks.check_version(version)
        with self._lock:
            conn = self._records_read()
            found = record_index.get(conn, kind, record_id, version)
        if found is None or (version is None and found.deleted):
            what = f"version {version} of " if version is not None else ""
            raise NotFoundError(f"{what}{kind} {record_id!r} not found")
        return found

    def list_records_page(
        self,
        kind: str,
        *,
        parent: str | None = None,
        as_of: int | None = None,
        include_deleted: bool = False,
        after: str | None = None,
        limit: int | None = None,
        changed_after: int | None = None,
    ) -> tuple[list[Record], int]:
        """One page of ``list_records``: ids after ``after``, at most ``limit``; with the
        sequence it reflects (``as_of``, or the newest), to ask for the next page with."""
        record_checks.check_listing(kind, parent, after, as_of, changed_after)
        with self._lock:
            conn = self._records_read()
            if as_of is None:
                as_of = record_index.max_sequence(conn)
            found = record_index.listing(
                conn, kind, parent, as_of, include_deleted, after, limit, changed_after
            )
        return found, as_of

    def record_history(self, kind: str, record_id: str) -> list[Record]:
        """Every version of a record, oldest first (empty if it never existed)."""
        record_checks.check_kind(kind)
        record_checks.check_id(record_id)
        with self._lock:
            return record_index.history(self._records_read(), kind, record_id)

    def _records_read(self) -> sqlite3.Connection:
        """The index, caught up with the record segments; an empty one in memory when no
        record was ever written (a read creates no files)."""
        if self._conn is None and not self.records_dir.is_dir():
            return self._empty_index()
        conn = self._connect()
        record_index.update(conn, self.records_dir)
        return conn
