"""The store on PostgreSQL (``postgresql://...``): ``SqlStore``. Needs the ``postgres``
extra (``pip install 'otelfeedback[postgres]'``); importing this package loads nothing.

>>> from otelfeedback.store.sql import SqlStore        # doctest: +SKIP
>>> SqlStore("postgresql://localhost/traces")           # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otelfeedback.store.sql.store import SqlStore

__all__ = ["SqlStore"]


def __getattr__(name: str) -> Any:
    if name == "SqlStore":
        from otelfeedback.store.sql.store import SqlStore

        return SqlStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
