"""What a judge answers and how we read it: the value type (``ValueSpec``), its JSON schema
for structured output, and a tolerant parser for answers that ignore the schema.

The parser accepts, in order: the whole answer as JSON; JSON inside a Markdown code fence;
the first JSON object anywhere in the text; and plain ``Result: yes`` / ``Rationale: ...``
lines. The value is then coerced to the spec (``"Yes."`` → ``"yes"``, ``"true"`` → ``True``,
``"4"`` → ``4``). Anything else is a ``JudgeError`` (``JUDGE_MALFORMED_ANSWER``), which the
scorer records as an error assessment.
"""

from __future__ import annotations

import json
import math
import re
import typing
from dataclasses import dataclass
from typing import Any

from otelfeedback.errors import InvalidArgumentError

VALUE_KEYS = ("result", "value", "verdict", "answer", "score", "rating", "label")
RATIONALE_KEYS = ("rationale", "reasoning", "reason", "explanation", "justification")
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_LINE = re.compile(
    r"^[\s*#>_-]*(result|verdict|answer|value|score|rationale|reasoning|reason|explanation)"
    r"[\s*_]*[:=][\s*_]*(.+?)[\s*_]*$",
    re.I | re.M,
)
_YES = ("yes", "y", "true", "pass", "passed", "correct")
_NO = ("no", "n", "false", "fail", "failed", "incorrect")


class JudgeError(Exception):
    """A judge call gave no usable verdict; ``code`` says why (``JUDGE_TIMEOUT``,
    ``JUDGE_HTTP_500``, ``JUDGE_MALFORMED_ANSWER``, ``JUDGE_REFUSED``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ValueSpec:
    """The type of a judge's value: ``yes_no`` (the built-in judges), ``bool``, ``int``,
    ``float``, ``str`` or ``literal`` (one of ``options``)."""

    kind: str = "yes_no"
    options: tuple[Any, ...] = ()

    @classmethod
    def of(cls, value_type: Any) -> ValueSpec:
        """The spec of a Python type: ``bool``, ``int``, ``float``, ``str``,
        ``Literal["good", "bad"]``; ``None`` or ``"yes/no"`` for yes/no.

        Raises:
            InvalidArgumentError: another type (``feedback_value_type``).
        """
        if value_type is None or value_type == "yes/no":
            return cls()
        simple = {bool: "bool", int: "int", float: "float", str: "str"}
        if value_type in simple:
            return cls(simple[value_type])
        if typing.get_origin(value_type) is typing.Literal:
            options = typing.get_args(value_type)
            if options and all(isinstance(o, (str, int, float)) for o in options):
                return cls("literal", tuple(options))
        raise InvalidArgumentError(
            "feedback_value_type",
            f"expected bool, int, float, str or Literal[...] of strings/numbers, got "
            f"{value_type!r}",
        )

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the answer: ``{"rationale": str, "result": <this type>}``."""
        types: dict[str, dict[str, Any]] = {
            "yes_no": {"type": "string", "enum": ["yes", "no"]},
            "bool": {"type": "boolean"},
            "int": {"type": "integer"},
            "float": {"type": "number"},
            "str": {"type": "string"},
        }
        result = types.get(self.kind) or {"enum": list(self.options)}
        return {
            "type": "object",
            "properties": {"rationale": {"type": "string"}, "result": result},
            "required": ["rationale", "result"],
            "additionalProperties": False,
        }

    def describe(self) -> str:
        """How the prompt names the expected value."""
        if self.kind == "literal":
            return "one of " + ", ".join(json.dumps(o) for o in self.options)
        return {
            "yes_no": '"yes" or "no"',
            "bool": "true or false",
            "int": "an integer",
            "float": "a number",
            "str": "a short text",
        }[self.kind]

    def coerce(self, raw: Any) -> Any:
        """``raw`` as a value of this type.

        Raises:
            JudgeError: it is not one (``JUDGE_MALFORMED_ANSWER``).
        """
        text = raw.strip().strip(".!\"'`*").strip() if isinstance(raw, str) else None
        lowered = text.lower() if text is not None else None
        if self.kind in ("yes_no", "bool"):
            if raw is True or lowered in _YES:
                return "yes" if self.kind == "yes_no" else True
            if raw is False or lowered in _NO:
                return "no" if self.kind == "yes_no" else False
        elif self.kind in ("int", "float"):
            number = _number(raw if text is None else text)
            if number is not None and (self.kind == "float" or float(number).is_integer()):
                return float(number) if self.kind == "float" else int(number)
        elif self.kind == "str":
            if text:
                return text
        else:
            for option in self.options:
                if raw == option or (
                    isinstance(option, str) and lowered is not None and option.lower() == lowered
                ):
                    return option
        raise JudgeError("JUDGE_MALFORMED_ANSWER", f"expected {self.describe()}, got {raw!r:.200}")


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw)
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def _objects(text: str) -> list[dict[str, Any]]:
    """JSON objects in ``text``: the whole of it, fenced blocks, then embedded ones."""
    found: list[dict[str, Any]] = []
    candidates = [text, *_FENCE.findall(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    if found:
        return found
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
            break
    return found


def _pick(obj: dict[str, Any], keys: tuple[str, ...]) -> tuple[bool, Any]:
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for key in keys:
        if key in lowered:
            return True, lowered[key]
    return False, None


def parse_verdict(text: str, spec: ValueSpec) -> tuple[Any, str | None]:
    """``(value, rationale)`` from a judge's answer (see the module docstring).

    Raises:
        JudgeError: no verdict in it (``JUDGE_MALFORMED_ANSWER``).
    """
    for obj in _objects(text):
        has_value, raw = _pick(obj, VALUE_KEYS)
        if has_value:
            _, rationale = _pick(obj, RATIONALE_KEYS)
            return spec.coerce(raw), None if rationale is None else str(rationale)
    lines = {m.group(1).lower(): m.group(2) for m in _LINE.finditer(text)}
    raw_value = next((lines[k] for k in VALUE_KEYS if k in lines), None)
    if raw_value is not None:
        rationale = next((lines[k] for k in RATIONALE_KEYS if k in lines), None)
        return spec.coerce(raw_value), rationale
    raise JudgeError(
        "JUDGE_MALFORMED_ANSWER", f"the judge's answer has no verdict: {text.strip()[:200]!r}"
    )
