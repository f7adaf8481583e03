"""A throwaway PostgreSQL cluster from the machine's own PostgreSQL binaries (Debian's
``postgresql`` package): ``initdb`` into a temporary directory (as the ``postgres`` user
when run as root, since initdb refuses root), ``pg_ctl`` on a free loopback port with its
socket in that directory, fsync off. Used by the test session and ``bench/store.py``."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


class ClusterError(RuntimeError):
    """The cluster could not be set up or started (the message says why)."""


def find_bindir() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``: ``$PG_BINDIR``, else the newest
    ``/usr/lib/postgresql/*/bin``, else the ``PATH``."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ClusterError(
        "PostgreSQL is not installed (no initdb): apt-get install postgresql (or set PG_BINDIR)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One PostgreSQL server on 127.0.0.1 in a temporary directory, until ``stop()``."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="otelfeedback-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "-U", "postgres")  # fmt: skip
        self.start()

    def _run(self, tool: str, *args: str, timeout: float = 120) -> str:
        command = [str(self.bindir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.dir, check=False
        )
        if result.returncode != 0:
            raise ClusterError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
            "-c shared_buffers=256MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                  "-t", "60", "-o", options, "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def sql(
        self, statement: str, database: str = "postgres", params: Any = None
    ) -> list[tuple[object, ...]]:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str, template: str = "template0") -> str:
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except ClusterError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def start_cluster(attempts: int = 2) -> Cluster:
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return Cluster()
        except (ClusterError, subprocess.TimeoutExpired, OSError) as exc:
            last = exc
            time.sleep(1)
    raise ClusterError(str(last))
