"""Real Arize Phoenix and MLflow tracking servers on loopback, for the bridge tests.

Each runs from its cached venv (``install_backends.py``) in its own process group, with its
data in a temporary directory, on free ports. Phoenix also opens an OTLP/gRPC port, which it
binds on all interfaces whatever ``PHOENIX_HOST`` says (it cannot be turned off): we give it
a free port too. ``start`` returns at once; ``wait_ready`` polls the health endpoint, so
both servers boot at the same time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.bridges.install_backends import executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A started backend: its base URL and how to reach its process and log."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    health: str

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Poll the health endpoint until it answers 200.

        Raises:
            RuntimeError: the process exited or did not get ready in time (with its log).
        """
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}):\n{self.tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + self.health, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server's process group (the server and its workers)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            except ProcessLookupError:
                pass


def _environment(workdir: Path, extra: dict[str, str]) -> dict[str, str]:
    # A clean environment: none of the test process's OTEL_* settings reach the servers.
    return {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "LANG": "C.UTF-8", **extra}


def _spawn(
    name: str, argv: list[str], workdir: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            env=_environment(workdir, env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, log


def start_phoenix(workdir: Path) -> Server:
    """Start Phoenix (SQLite in ``workdir``); ``FileNotFoundError`` when not installed."""
    command = executable("phoenix")
    if command is None:
        raise FileNotFoundError("arize-phoenix is not installed: make setup-backends")
    port = free_port()
    env = {
        "PHOENIX_WORKING_DIR": str(workdir / "data"),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        "PHOENIX_AGENTS_DISABLE_BASH": "true",
    }
    process, log = _spawn("phoenix", [str(command), "serve"], workdir, env)
    return Server("phoenix", f"http://127.0.0.1:{port}", process, log, "/healthz")


def start_mlflow(workdir: Path) -> Server:
    """Start an MLflow tracking server (SQLite in ``workdir``); ``FileNotFoundError`` when
    not installed."""
    command = executable("mlflow")
    if command is None:
        raise FileNotFoundError("mlflow is not installed: make setup-backends")
    port = free_port()
    env = {
        # No job runner (7 worker processes, 2.4 GB) and no price-catalog download, which
        # stalls the first export with a model name for 7-8 s.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_MODEL_CATALOG_URI": "",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    argv = [
        str(command),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{data / 'mlflow.db'}",
        "--default-artifact-root",
        str(data / "artifacts"),
    ]
    process, log = _spawn("mlflow", argv, workdir, env)
    return Server("mlflow", f"http://127.0.0.1:{port}", process, log, "/health")


STARTERS = {"phoenix": start_phoenix, "mlflow": start_mlflow}
