"""The connection to a file store's SQLite index, reopened when the file is deleted.

The index is derived data: a user may delete ``index.sqlite`` at any time, even while a
server, an app and a notebook use the store. Each ``connection()`` compares the file's
identity (device and inode) with the one it opened; when the file is gone or replaced, the
old connection is closed and a new index is created (and filled by the next read).

SQLite names its side files after the database (``index.sqlite-wal``, ``-shm``). Left over
from a deleted index, they would be taken for the new database's and corrupt it ("disk I/O
error" in every process), so whoever creates a new index removes them first, under a lock
(``.index.lock``) that makes one process the creator.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otelfeedback._internal import forks
from otelfeedback.store import indexer, schema

_SIDE_FILES = ("-wal", "-shm", "-journal")
#: Connections a forked child inherited: never used, never closed (``_after_fork_in_child``).
INHERITED_CONNECTIONS: list[sqlite3.Connection] = []
#: Page size of a new index (bytes); an existing index keeps its own.
INDEX_PAGE_SIZE = 8192


class IndexDatabase:
    """One SQLite connection to ``path``, reopened when the file is deleted or replaced.

    Not thread-safe: its owner serialises access (``FileStore`` holds its lock).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        forks.register(self)

    def connection(self) -> sqlite3.Connection:
        """The open connection, (re)opening the index when needed.

        Raises:
            sqlite3.Error: the index cannot be opened (permissions, a full disk).
        """
        if self._conn is not None and self._identity == _identity(self.path):
            return self._conn
        self.close()
        self._conn, self._identity = _open(self.path)
        return self._conn

    def current(self) -> sqlite3.Connection | None:
        """The open connection, without checking the file (None when closed)."""
        return self._conn

    def is_open(self) -> bool:
        return self._conn is not None

    def is_current(self) -> bool:
        """Whether the open connection is still to the file at ``path``."""
        return self._conn is not None and self._identity == _identity(self.path)

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn, self._identity = self._conn, None, None
            try:
                conn.close()
            except sqlite3.Error:
                pass

    # -- fork (``_internal/forks.py``): a connection must not cross a fork (SQLite) --------
    def _before_fork(self) -> None:
        pass

    def _after_fork_in_parent(self) -> None:
        pass

    def _after_fork_in_child(self) -> None:
        if self._conn is not None:
            # Closing it here could release the parent's locks on the database: keep the
            # object alive, unused, and open a connection of the child's own on demand.
            INHERITED_CONNECTIONS.append(self._conn)
            self._conn, self._identity = None, None


def _retry_while_locked(conn: sqlite3.Connection, sql: str, seconds: float = 60.0) -> None:
    """Run ``sql``, retrying while another process holds the database: switching a new index
    to WAL needs an exclusive lock, and SQLite answers "database is locked" at once there
    instead of waiting in its busy handler (a process of an older version, which does not
    take ``.index.lock``, opening the same new store)."""
    deadline = time.monotonic() + seconds
    delay = 0.005
    while True:
        try:
            conn.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _open(path: Path) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(path.parent / ".index.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        if not path.exists():
            for suffix in _SIDE_FILES:  # a deleted index's leftovers
                try:
                    os.unlink(f"{path}{suffix}")
                except FileNotFoundError:
                    pass
        conn = sqlite3.connect(
            path,
            isolation_level=None,
            check_same_thread=False,
            timeout=indexer.BUSY_TIMEOUT_MS / 1000,
        )
        try:
            conn.execute(f"PRAGMA page_size={INDEX_PAGE_SIZE}")
            _retry_while_locked(conn, "PRAGMA journal_mode=WAL")
            # The index is derived data: a crash can at worst lose it, and it is rebuilt.
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
            if schema.migrate(conn):
                indexer.clear(conn)
        except BaseException:
            conn.close()
            raise
        return conn, _identity(path)
    finally:
        os.close(lock_fd)  # releases the flock


def empty_index() -> sqlite3.Connection:
    """An index of no data, in memory (the read side of a store that does not exist yet)."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    schema.migrate(conn)
    return conn


@dataclass(frozen=True)
class IndexStatus:
    """How fresh a file store's index is.

    ``pending_bytes`` of the segments are not indexed yet (0: the index is up to date);
    ``skipped_lines`` counts the lines the indexer could not take, even repaired, and
    ``last_skipped`` describes the latest few (segment, line, reason).
    """

    indexed_bytes: int
    pending_bytes: int
    skipped_lines: int
    last_skipped: list[tuple[str, int, str]]

    @property
    def up_to_date(self) -> bool:
        return self.pending_bytes == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "up_to_date": self.up_to_date,
            "indexed_bytes": self.indexed_bytes,
            "pending_bytes": self.pending_bytes,
            "skipped_lines": self.skipped_lines,
            "last_skipped": [
                {"segment": seg, "line": line, "reason": reason}
                for seg, line, reason in self.last_skipped
            ],
        }


def index_status(conn: sqlite3.Connection, traces_dir: Path) -> IndexStatus:
    indexed = dict(conn.execute("SELECT name, offset FROM segments").fetchall())
    pending = sum(
        size - indexed.get(path.name, 0) for path, size in indexer.pending(conn, traces_dir)
    )
    (skipped,) = conn.execute("SELECT count(*) FROM skipped_lines").fetchone()
    last = conn.execute(
        "SELECT segment, line, reason FROM skipped_lines ORDER BY time DESC, rowid DESC LIMIT 10"
    ).fetchall()
    return IndexStatus(
        sum(indexed.values()), pending, skipped, [(str(a), int(b), str(c)) for a, b, c in last]
    )
