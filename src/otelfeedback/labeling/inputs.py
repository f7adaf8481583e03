"""What a label schema asks for: the input types, their checks, and the answers they accept.

>>> InputCategorical(options=["Accurate", "Partially Accurate", "Inaccurate"]).check("Accurate")
'Accurate'

Every input checks its own options when built (``InvalidArgumentError`` naming the argument)
and checks answers with ``check(value)``: the SDK and the review app use the same check. An
answer of None (or an empty text or selection) means "not answered".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from otelfeedback.errors import InvalidArgumentError

MAX_OPTIONS = 100
MAX_OPTION_LENGTH = 250
#: Longest text answer accepted when a schema sets no ``max_length`` (characters).
MAX_TEXT_LENGTH = 100_000


def _positive_int(value: Any, argument: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(argument, f"expected a positive int or None, got {value!r}")
    return value


def _number(value: Any, argument: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(argument, f"expected a number or None, got {value!r}")
    if not math.isfinite(value):
        raise InvalidArgumentError(argument, f"expected a finite number, got {value!r}")
    return value


def _options(options: Any) -> list[str]:
    if isinstance(options, (str, bytes)) or not isinstance(options, (list, tuple)):
        raise InvalidArgumentError("options", f"expected a list of strings, got {options!r:.80}")
    if not options:
        raise InvalidArgumentError("options", "expected at least one option, got an empty list")
    if len(options) > MAX_OPTIONS:
        raise InvalidArgumentError("options", f"at most {MAX_OPTIONS} options, got {len(options)}")
    seen: set[str] = set()
    for i, option in enumerate(options):
        if not isinstance(option, str) or not option.strip():
            raise InvalidArgumentError(
                f"options[{i}]", f"expected a non-empty string, got {option!r}"
            )
        if len(option) > MAX_OPTION_LENGTH:
            raise InvalidArgumentError(f"options[{i}]", f"at most {MAX_OPTION_LENGTH} characters")
        if option in seen:
            raise InvalidArgumentError(f"options[{i}]", f"{option!r} is listed twice")
        seen.add(option)
    return list(options)


def _text(value: Any, limit: int | None, what: str = "a text") -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected {what}, got {type(value).__name__}")
    maximum = limit or MAX_TEXT_LENGTH
    if len(value) > maximum:
        raise ValueError(f"at most {maximum:,} characters, got {len(value):,}")
    return value


@dataclass(frozen=True)
class InputCategorical:
    """Pick one of ``options`` (radio buttons in the review app). The answer is the option."""

    options: list[str]
    type: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", _options(self.options))

    def check(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if value not in self.options:
            raise ValueError(
                f"expected one of {', '.join(map(repr, self.options))}, got {value!r:.80}"
            )
        return str(value)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "options": list(self.options)}


@dataclass(frozen=True)
class InputCategoricalList:
    """Pick any of ``options`` (checkboxes). The answer is the list, in the options' order."""

    options: list[str]
    type: ClassVar[str] = "categorical_list"

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", _options(self.options))

    def check(self, value: Any) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ValueError(f"expected a list of options, got {value!r:.80}")
        unknown = [v for v in value if v not in self.options]
        if unknown:
            raise ValueError(
                f"{unknown[0]!r:.80} is not one of {', '.join(map(repr, self.options))}"
            )
        chosen = [o for o in self.options if o in value]
        return chosen or None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "options": list(self.options)}


@dataclass(frozen=True)
class InputText:
    """Free text (a text area), at most ``max_length`` characters."""

    max_length: int | None = None
    type: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        _positive_int(self.max_length, "max_length")

    def check(self, value: Any) -> str | None:
        if value is None:
            return None
        text = _text(value, self.max_length)
        return text if text.strip() else None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "max_length": self.max_length}


@dataclass(frozen=True)
class InputTextList:
    """Several texts (one per line in the review app): at most ``max_count`` of at most
    ``max_length_each`` characters each."""

    max_length_each: int | None = None
    max_count: int | None = None
    type: ClassVar[str] = "text_list"

    def __post_init__(self) -> None:
        _positive_int(self.max_length_each, "max_length_each")
        _positive_int(self.max_count, "max_count")

    def check(self, value: Any) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ValueError(f"expected a list of texts, got {value!r:.80}")
        texts = [t for t in (_text(v, self.max_length_each, "texts") for v in value) if t.strip()]
        if self.max_count is not None and len(texts) > self.max_count:
            raise ValueError(f"at most {self.max_count} entries, got {len(texts)}")
        return texts or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "max_length_each": self.max_length_each,
            "max_count": self.max_count,
        }


@dataclass(frozen=True)
class InputNumeric:
    """A number between ``min_value`` and ``max_value`` (inclusive; either may be None)."""

    min_value: float | int | None = None
    max_value: float | int | None = None
    type: ClassVar[str] = "numeric"

    def __post_init__(self) -> None:
        low = _number(self.min_value, "min_value")
        high = _number(self.max_value, "max_value")
        if low is not None and high is not None and low > high:
            raise InvalidArgumentError(
                "min_value", f"must not be above max_value ({low!r} > {high!r})"
            )

    def check(self, value: Any) -> int | float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r:.80}")
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        if self.min_value is not None and value < self.min_value:
            raise ValueError(f"must be at least {self.min_value:g}, got {value:g}")
        if self.max_value is not None and value > self.max_value:
            raise ValueError(f"must be at most {self.max_value:g}, got {value:g}")
        return value

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "min_value": self.min_value, "max_value": self.max_value}


Input = InputCategorical | InputCategoricalList | InputText | InputTextList | InputNumeric
INPUT_TYPES: dict[str, type[Input]] = {
    cls.type: cls
    for cls in (InputCategorical, InputCategoricalList, InputText, InputTextList, InputNumeric)
}

#: Input type -> the fields it takes (besides ``type``).
INPUT_FIELDS: dict[str, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(cls)) for kind, cls in INPUT_TYPES.items()
}


def input_from_dict(data: Any, argument: str = "input") -> Input:
    """An input from its JSON form ``{"type": "categorical", "options": [...]}``.

    Raises:
        InvalidArgumentError: an unknown type or bad fields (named ``input.<field>``).
    """
    if not isinstance(data, dict):
        raise InvalidArgumentError(argument, "expected an object {type, ...}")
    kind = data.get("type")
    cls = INPUT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidArgumentError(
            f"{argument}.type", f"expected one of {', '.join(INPUT_TYPES)}, got {kind!r}"
        )
    values = {k: v for k, v in data.items() if k != "type"}
    try:
        return cls(**values)
    except TypeError:
        allowed = ", ".join(f.name for f in fields(cls))
        raise InvalidArgumentError(argument, f"{kind} takes {allowed}") from None
    except InvalidArgumentError as exc:
        message = str(exc).removeprefix(f"{exc.argument}: ")
        raise InvalidArgumentError(f"{argument}.{exc.argument}", message) from None


def is_input(value: Any) -> bool:
    return isinstance(value, tuple(INPUT_TYPES.values()))


__all__ = [
    "INPUT_FIELDS",
    "INPUT_TYPES",
    "Input",
    "InputCategorical",
    "InputCategoricalList",
    "InputNumeric",
    "InputText",
    "InputTextList",
    "input_from_dict",
    "is_input",
]
