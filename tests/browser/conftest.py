"""A real headless Chromium (Debian's ``chromium``) driven by Playwright.

In CI (``CI=true``) a missing browser fails the tests; locally they are skipped with the
command that installs it. Set ``UI_SCREENSHOTS=DIR`` to keep the screenshots the tests take.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The seeded store and the live server are the server tests' fixtures, shared as they are.
from tests.server.conftest import Seeded, seed, seeded, server  # noqa: F401


@pytest.fixture
def store_location(tmp_path: Path) -> Path:
    """The browser tests run on a file store (the server tests cover every store)."""
    return tmp_path / "store"


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    # Package scope, not session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, and later tests call asyncio.run().
    executable = chromium_path()
    if executable is None:
        message = "Chromium is not installed: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    yield page
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


@pytest.fixture
def shot(tmp_path: Path) -> Any:
    """``shot(page, "name")`` saves a full-page screenshot (kept under $UI_SCREENSHOTS)."""
    keep = os.environ.get("UI_SCREENSHOTS")

    def take(page: Any, name: str) -> Path:
        directory = Path(keep) if keep else tmp_path
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
