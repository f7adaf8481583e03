"""The package's own metadata, read on first use (never at import)."""

from __future__ import annotations

import functools


@functools.cache
def package_version() -> str:
    """The installed version of otelfeedback (``"0+unknown"`` when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("otelfeedback")
    except PackageNotFoundError:
        return "0+unknown"
