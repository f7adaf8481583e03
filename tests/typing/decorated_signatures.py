"""Checked by mypy in `make lint`, not run: decorated functions keep their signatures.

Each `type: ignore[...]` below must be needed (mypy runs with warn_unused_ignores): if a
decorator erased a signature, the ignore would become unused and mypy would fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import otelfeedback


@otelfeedback.trace
def plain(q: str, k: int = 3) -> list[str]:
    return [q] * k


@otelfeedback.trace(span_type="RETRIEVER")
async def fetch(q: str) -> int:
    return len(q)


@otelfeedback.trace
def gen(n: int) -> Iterator[int]:
    yield n


@otelfeedback.trace
async def agen(n: int) -> AsyncIterator[int]:
    yield n


ok: list[str] = plain("a", k=2)
bad_arg = plain(1)  # type: ignore[arg-type]
bad_result: int = plain("a")  # type: ignore[assignment]
bad_gen = gen("x")  # type: ignore[arg-type]
bad_agen = agen("x")  # type: ignore[arg-type]


async def uses() -> None:
    count: int = await fetch("q")
    wrong: str = await fetch("q")  # type: ignore[assignment]
    del count, wrong
