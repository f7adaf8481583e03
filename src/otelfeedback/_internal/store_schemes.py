"""Store URL schemes that ``configure(store=...)`` writes to with an exporter of the store
itself (``postgresql://``): ``setup`` finds the exporter here, since it never imports the
store (``docs/architecture.md``). The package facade, the one module above every layer,
registers them at import: only function references, nothing is loaded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: scheme -> a function of the URL returning the span exporter (an SDK ``SpanExporter``).
_FACTORIES: dict[str, Callable[[str], Any]] = {}


def register(scheme: str, factory: Callable[[str], Any]) -> None:
    _FACTORIES[scheme.lower()] = factory


def exporter_factory(url: str) -> Callable[[str], Any] | None:
    """The exporter factory for ``url``'s scheme, None when it has none."""
    scheme, found, _ = url.partition("://")
    return _FACTORIES.get(scheme.lower()) if found else None
