"""The otelfeedback server: OTLP/HTTP receiver, JSON API and web UI over a store.

Needs the ``server`` extra (``pip install 'otelfeedback[server]'``); importing this package
is free, the web stack loads on first use of ``create_app``.

>>> from otelfeedback.server import create_app   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otelfeedback.errors import MissingExtraError

if TYPE_CHECKING:
    from otelfeedback.server.app import create_app

__all__ = ["create_app", "require_server_extra"]


def require_server_extra() -> None:
    """Raise ``MissingExtraError`` unless the web stack (the ``server`` extra) is installed."""
    try:
        import jinja2  # noqa: F401
        import python_multipart  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise MissingExtraError("server", "otelfeedback server") from None


def __getattr__(name: str) -> Any:
    if name == "create_app":
        require_server_extra()
        from otelfeedback.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
