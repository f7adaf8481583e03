"""The file store's segment layout: numbered OTLP/JSON-lines files and their writer.

Layout: ``<dir>/segment-000001.jsonl``, ``segment-000002.jsonl``, ... Each append writes whole
lines with a single ``writev`` under an exclusive ``flock`` on ``<dir>/.lock``, so several
processes can share a directory without interleaving or losing lines. A segment that has
reached ``max_bytes`` is left alone (never renamed) and writing moves on to the next number.
A torn last line (a writer killed mid-write) is closed with a newline before anything else
is appended, so it cannot swallow the next record. The exporter, the server's receiver and
the indexer all use this module.

An append makes few system calls (``flock``, two ``fstat``, a ``stat``, the write, the
unlock): the lock file and the segment stay open between appends, the segment is checked
with ``fstat`` (still linked, under ``max_bytes``), and the directory is listed again only
when its modification time says it may have changed. That matters in the exporter's thread: each
system call releases the GIL, and a busy app thread may then keep it for a switch interval
(5 ms). A directory removed behind a writer's back is made again at its next append.

Across ``fork()`` (``_internal/forks.py``): a fork waits for an append in progress in
another thread, so a child never inherits the directory's lock held; the child closes the
descriptors it inherited and opens its own.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from otelfeedback._internal import forks

logger = logging.getLogger("otelfeedback")
SEGMENT_PATTERN = re.compile(r"^segment-(\d{6,})\.jsonl$")


def segment_name(number: int) -> str:
    return f"segment-{number:06d}.jsonl"


def list_segments(traces_dir: Path) -> list[tuple[int, Path]]:
    """The segment files of a store's ``traces`` directory, oldest first."""
    try:
        names = os.listdir(traces_dir)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        match = SEGMENT_PATTERN.match(name)
        if match:
            found.append((int(match.group(1)), traces_dir / name))
    found.sort()
    return found


@dataclass
class LineCursor:
    """A reader's place in a segment: the byte offset after the last line it took, and that
    line's number (1-based; 0 before the first)."""

    offset: int = 0
    line: int = 0


def complete_lines(path: Path, cursor: LineCursor, until: int | None = None) -> Iterator[bytes]:
    """The complete lines of ``path`` after ``cursor``, each with its newline.

    The cursor moves past each line before it is yielded, so a caller that stops early keeps
    its place. A line without its newline yet (being written, or torn) ends the reading: it is
    taken once complete. With ``until``, no line starting at or past that offset is read. A
    file shorter than the cursor (replaced or truncated behind the reader's back) yields
    nothing and logs a warning.
    """
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size < cursor.offset:
            logger.warning(
                "%s is shorter than its indexed offset; run 'otelfeedback store reindex'", path
            )
        handle.seek(cursor.offset)
        while until is None or cursor.offset < until:
            raw = handle.readline()
            if not raw.endswith(b"\n"):
                return  # end of file, or a line still being written
            cursor.offset += len(raw)
            cursor.line += 1
            yield raw


@dataclass(frozen=True)
class Appended:
    """Where ``LockedSegments.write`` put its data: the segment, its size before and after,
    and whether a torn last line had to be closed with a newline first."""

    path: Path
    start: int
    end: int
    closed_torn_line: bool


class LockedSegments:
    """Appends to a ``SegmentWriter``'s directory while ``exclusive()`` holds its lock."""

    def __init__(self, writer: SegmentWriter) -> None:
        self._writer = writer

    def write(self, data: bytes | Sequence[bytes]) -> Appended:
        """Append ``data``: bytes, or several buffers (whole lines) written with one call."""
        fd, size = self._writer._current_segment()
        parts = [data] if isinstance(data, bytes) else list(data)
        # The last byte is ours (a newline) when nobody wrote since our last append.
        torn = bool(size) and size != self._writer._end and os.pread(fd, 1, size - 1) != b"\n"
        if torn:
            parts.insert(0, b"\n")
        try:
            length = _write_all(fd, parts)
        except OSError:
            self._writer._forget_segment()  # the next append finds its segment afresh
            raise
        self._writer._end = size + length
        path = self._writer.directory / segment_name(self._writer._number)
        return Appended(path, size, size + length, torn)


def _write_all(fd: int, parts: list[bytes]) -> int:
    """Write every buffer, in order, resuming after a short write; the bytes written."""
    total = 0
    views = [memoryview(part) for part in parts if part]
    while views:
        written = os.writev(fd, views[:_IOV_MAX])
        total += written
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if written:
            views[0] = views[0][written:]
    return total


_IOV_MAX = 1024
#: A directory modification time at least this old cannot be followed by another change
#: stamped with the same time: local file systems stamp with a clock that ticks every 1 to
#: 10 ms. (On one stamping in seconds, a change in the same second can go unseen until the
#: next; rotation needs no listing to be seen: the full segment's size shows it.)
_SETTLED_NS = 50_000_000


class SegmentWriter:
    """Appends whole lines to the newest segment of a directory, safely across processes."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._lock_fd: int | None = None  # the directory's lock file
        self._number = 0
        self._end = -1  # the segment's size after our last append (-1: unknown)
        self._listed_mtime = -1  # the directory's modification time at the last listing
        self._own_mtime = False  # ... and it was read under the lock after opening a segment
        self._pid = os.getpid()
        self._fork_locked = False
        forks.register(self)

    def append(self, data: bytes | Sequence[bytes]) -> None:
        """Append ``data`` (one or more complete lines, in one buffer or several) atomically
        with respect to other writers of the same directory."""
        with self.exclusive() as segments:
            segments.write(data)

    @contextmanager
    def exclusive(self) -> Iterator[LockedSegments]:
        """Hold the directory's lock: no other writer (thread or process) appends until the
        block ends. The records store reads what is stored and appends under it."""
        with self._lock:
            if self._pid != os.getpid():  # forked without the fork hooks: start afresh
                self._fd = self._lock_fd = None
                self._pid = os.getpid()
            lock_fd = self._locked_fd()
            try:
                yield LockedSegments(self)
            finally:
                fcntl.flock(lock_fd, fcntl.LOCK_UN)

    def _locked_fd(self) -> int:
        """The directory's lock file, flocked. Its descriptor stays open between appends
        (each system call is a chance for the app's thread to take the interpreter for a
        switch interval); a lock file removed with its directory is made again."""
        while True:
            if self._lock_fd is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._lock_fd = os.open(
                    self.directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644
                )
            lock_fd = self._lock_fd
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            if os.fstat(lock_fd).st_nlink:
                return lock_fd
            self._close_descriptors()  # the directory was removed behind our back

    def _current_segment(self) -> tuple[int, int]:
        """The descriptor of the segment to write now and its size (with the flock held).

        The open segment is kept while it is still linked, below ``max_bytes`` and the
        newest of the directory. That last check lists the directory only when it may have
        changed since the last listing: its modification time moved, or is too recent to
        trust (file systems stamp it with a coarse clock). So a steady writer makes one
        ``fstat`` and one ``stat`` here, and still follows another writer to a newer segment
        or a segment renamed or replaced behind its back, as a listing on every append did.
        """
        fd = self._fd
        if fd is not None:
            info = os.fstat(fd)
            if info.st_nlink and info.st_size < self.max_bytes:
                if self._listing_is_current():
                    return fd, info.st_size
                newest = max((n for n, _ in list_segments(self.directory)), default=0)
                if newest == self._number:
                    return fd, info.st_size
            self._forget_segment()
        segments = list_segments(self.directory)
        number = segments[-1][0] if segments else 1
        path = self.directory / segment_name(number)
        if path.exists() and path.stat().st_size >= self.max_bytes:
            number += 1
            path = self.directory / segment_name(number)
        self._fd = fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        self._number = number
        self._end = -1
        # The directory as this listing (and our own segment, if we made it) left it, under
        # the lock: no writer that takes the lock can change it until we let go.
        self._listed_mtime, self._own_mtime = os.stat(self.directory).st_mtime_ns, True
        return fd, os.fstat(fd).st_size

    def _listing_is_current(self) -> bool:
        """Whether the directory is unchanged since it was last listed: its modification
        time is the one seen then, and was read under the lock right after opening a segment
        (so no writer that locks changed it since) or is older than ``_SETTLED_NS``.
        Remembers the time seen now for the listing the caller makes when it is not."""
        try:
            mtime = os.stat(self.directory).st_mtime_ns
        except OSError:
            return False
        if mtime != self._listed_mtime:
            self._listed_mtime, self._own_mtime = mtime, False
            return False
        return self._own_mtime or time.time_ns() - mtime > _SETTLED_NS

    def _forget_segment(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd = None

    def close(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                self._close_descriptors()
            self._fd = self._lock_fd = None

    def _close_descriptors(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                try:
                    os.close(fd)  # closing the lock file's last copy releases its flock
                except OSError:
                    pass
        self._fd = self._lock_fd = None

    # -- fork (``_internal/forks.py``) -----------------------------------------------------
    def _before_fork(self) -> None:
        self._fork_locked = forks.acquire_for_fork(self._lock)

    def _after_fork_in_parent(self) -> None:
        if self._fork_locked:
            self._fork_locked = False
            self._lock.release()

    def _after_fork_in_child(self) -> None:
        # Closing the child's copies leaves the parent's descriptors, and its flock, as
        # they are; a flock is released only when every copy is closed.
        self._close_descriptors()
        self._lock = threading.Lock()
        self._fork_locked = False
        self._pid = os.getpid()
