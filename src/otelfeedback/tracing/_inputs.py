"""Bind a call's arguments to the function's parameter names, fast.

Signature analysis happens once, at decoration time; per call, plain positional/keyword
functions take a dict-building fast path, anything else ``inspect.Signature.bind``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


class InputBinder:
    """Turns ``(args, kwargs)`` into ``{param: value}`` with defaults, ``self``/``cls`` dropped."""

    __slots__ = ("_defaults", "_fast", "_names", "_signature", "_skip", "_var_kw")

    def __init__(self, func: Callable[..., Any]) -> None:
        try:
            signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            signature = None
        self._signature = signature
        params = list(signature.parameters.values()) if signature else []
        self._skip = 1 if params and params[0].name in ("self", "cls") else 0
        kinds = {p.kind for p in params}
        self._fast = signature is not None and kinds <= {
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        }
        self._names = tuple(
            p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        self._defaults = tuple(
            (p.name, p.default) for p in params if p.default is not inspect.Parameter.empty
        )
        self._var_kw = next(
            (p.name for p in params if p.kind is inspect.Parameter.VAR_KEYWORD), None
        )

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The inputs of one call; never raises (a call that does not bind is recorded as
        ``{"args": [...], "kwargs": {...}}``)."""
        names = self._names
        if self._fast and len(args) <= len(names):
            bound = dict(zip(names[self._skip : len(args)], args[self._skip :]))
            if kwargs:
                bound.update(kwargs)
            for name, default in self._defaults:
                if name not in bound:
                    bound[name] = default
            return bound
        return self._bind_slow(args, kwargs)

    def _bind_slow(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self._signature is None:
            return {"args": list(args), "kwargs": kwargs}
        try:
            ba = self._signature.bind(*args, **kwargs)
        except TypeError:
            return {"args": list(args[self._skip :]), "kwargs": kwargs}
        ba.apply_defaults()
        bound = dict(ba.arguments)
        if self._skip:
            bound.pop(next(iter(bound)), None)
        if self._var_kw is not None and self._var_kw in bound:
            extra = bound.pop(self._var_kw)
            for key, value in extra.items():
                bound.setdefault(key, value)
        return bound
