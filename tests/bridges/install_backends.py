"""Install the real backends the bridge tests export to (Arize Phoenix, MLflow) from PyPI,
each into its own virtual environment in a cache directory outside the repository.

    python3 tests/bridges/install_backends.py        # what `make setup-backends` runs

A venv is reused when its marker file says it holds the pinned version, so reruns take well
under a second; a half-finished install (no marker) is removed and redone. A lock file makes
two concurrent runs wait for each other instead of installing twice. Standard library only:
it runs before the project's own venv exists.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

#: name -> (the pinned requirement, the console script that starts the server)
BACKENDS: dict[str, tuple[str, str]] = {
    "phoenix": ("arize-phoenix==20.26.1", "phoenix"),
    "mlflow": ("mlflow==3.17.2", "mlflow"),
}
_MARKER = ".installed"


def cache_dir() -> Path:
    """``$OTELFEEDBACK_BACKENDS_DIR``, else ``~/.cache/otelfeedback/backends``."""
    configured = os.environ.get("OTELFEEDBACK_BACKENDS_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "otelfeedback" / "backends"


def venv_dir(name: str) -> Path:
    """The venv of backend ``name`` (its directory is named after the pinned version)."""
    requirement = BACKENDS[name][0]
    return cache_dir() / requirement.replace("==", "-")


def executable(name: str) -> Path | None:
    """The backend's server command, or None when it is not (completely) installed."""
    directory = venv_dir(name)
    command = directory / "bin" / BACKENDS[name][1]
    if (directory / _MARKER).is_file() and command.is_file():
        return command
    return None


def _pip_install(name: str) -> subprocess.Popen[bytes]:
    directory = venv_dir(name)
    shutil.rmtree(directory, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(directory)
    log = (cache_dir() / f"{name}-install.log").open("wb")
    return subprocess.Popen(
        [str(directory / "bin" / "python"), "-m", "pip", "install", "-q", BACKENDS[name][0]],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def install_all() -> int:
    """Install every backend that is missing (in parallel); 0 on success."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.monotonic()
        running = {name: _pip_install(name) for name in BACKENDS if executable(name) is None}
        failed = []
        for name, process in running.items():
            if process.wait() == 0:
                (venv_dir(name) / _MARKER).write_text(BACKENDS[name][0] + "\n")
            else:
                failed.append(name)
        for name in BACKENDS:
            state = "installed" if name in running else "cached"
            print(f"backend {BACKENDS[name][0]}: {state} in {venv_dir(name)}")
        if running:
            print(f"backends installed in {time.monotonic() - started:.0f} s")
        for name in failed:
            log = root / f"{name}-install.log"
            print(f"backend {name}: pip install failed; see {log}", file=sys.stderr)
            sys.stderr.write(log.read_text(errors="replace")[-4000:])
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(install_all())
