"""What an LLM call cost: a small table of list prices for well-known models, overridable.

Prices are USD per million tokens, input and output, matched on the longest prefix of the
model name (``gpt-4o-mini-2024-07-18`` is ``gpt-4o-mini``; a provider prefix such as
``openai/`` is ignored). The built-in figures are public list prices at the time of writing
and change; a deployment overrides or extends them with ``create_app(prices=...)`` or the
``OTELFEEDBACK_MODEL_PRICES`` file. A model the table does not know has no cost (shown as
"—"), never a guess.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otelfeedback import config
from otelfeedback.errors import ConfigurationError


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens."""

    input: float
    output: float


#: Built-in list prices (USD per 1M tokens: input, output).
BUILTIN: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-4": Price(30.00, 60.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "o1-mini": Price(1.10, 4.40),
    "o1": Price(15.00, 60.00),
    "o3-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
    "o4-mini": Price(1.10, 4.40),
    "text-embedding-3-small": Price(0.02, 0.0),
    "text-embedding-3-large": Price(0.13, 0.0),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-3-5-sonnet": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-3-haiku": Price(0.25, 1.25),
    "claude-3-opus": Price(15.00, 75.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-opus-4": Price(15.00, 75.00),
    "gemini-1.5-flash": Price(0.075, 0.30),
    "gemini-1.5-pro": Price(1.25, 5.00),
    "gemini-2.0-flash": Price(0.10, 0.40),
}


class PriceTable:
    """Model name -> ``Price`` by longest prefix. ``cost()`` is None for unknown models."""

    def __init__(self, prices: Mapping[str, Price]) -> None:
        self._prices = {k.lower(): v for k, v in prices.items()}
        self._keys = sorted(self._prices, key=len, reverse=True)

    def price(self, model: str | None) -> Price | None:
        if not model:
            return None
        name = model.lower().rsplit("/", 1)[-1]
        for key in self._keys:
            if name.startswith(key):
                return self._prices[key]
        return None

    def cost(self, model: str | None, input_tokens: int, output_tokens: int) -> float | None:
        """USD for this many tokens of ``model``, or None when its price is unknown."""
        price = self.price(model)
        if price is None:
            return None
        return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def _price(model: str, raw: Any) -> Price:
    if isinstance(raw, Mapping):
        values = [raw.get("input"), raw.get("output", 0)]
    elif isinstance(raw, (list, tuple)) and len(raw) == 2:
        values = list(raw)
    else:
        values = [None, None]
    if not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e9 for v in values
    ):
        raise ConfigurationError(
            f"prices: {model!r} needs {{'input': USD, 'output': USD}} per million tokens, "
            f"got {raw!r}"
        )
    return Price(float(values[0]), float(values[1]))


def load_prices(
    prices: Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> PriceTable:
    """The built-in table with ``prices`` (a mapping, or a JSON file) merged over it; with
    None, the file named by ``OTELFEEDBACK_MODEL_PRICES`` if set.

    Raises:
        ConfigurationError: the file cannot be read or an entry is not two prices.
    """
    source: Any = prices if prices is not None else config.resolve("model_prices")
    if source is None:
        return PriceTable(BUILTIN)
    if not isinstance(source, Mapping):
        path = Path(os.fspath(source)).expanduser()
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"model prices {str(path)!r}: {exc}") from None
        if not isinstance(source, dict):
            raise ConfigurationError(f"model prices {str(path)!r}: expected a JSON object")
    merged = dict(BUILTIN)
    for model, raw in source.items():
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError(f"prices: model names must be strings, got {model!r}")
        merged[model.strip()] = _price(model, raw)
    return PriceTable(merged)
