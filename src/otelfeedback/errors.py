"""The exceptions otelfeedback raises.

::

    OtelFeedbackError
    ├── ConfigurationError       a setting or configure() argument is invalid
    ├── MissingExtraError        an optional dependency is not installed (says what to install)
    ├── InvalidArgumentError     a public API call got a bad argument (also a ValueError)
    ├── NotFoundError            a trace or assessment does not exist (also a LookupError)
    └── FilterSyntaxError        a search filter does not parse (also a ValueError)
"""

from __future__ import annotations


class OtelFeedbackError(Exception):
    """Base class of every error otelfeedback raises on purpose."""


class ConfigurationError(OtelFeedbackError, ValueError):
    """A setting or ``configure()`` argument is invalid."""


class MissingExtraError(OtelFeedbackError, ImportError):
    """An optional dependency is missing; the message gives the ``pip install`` to run."""

    def __init__(self, extra: str, feature: str) -> None:
        self.extra = extra
        super().__init__(
            f"{feature} needs the '{extra}' extra: pip install 'otelfeedback[{extra}]'"
        )


class InvalidArgumentError(OtelFeedbackError, ValueError):
    """A public API call got an argument it cannot accept."""

    def __init__(self, argument: str, message: str) -> None:
        self.argument = argument
        super().__init__(f"{argument}: {message}")


class NotFoundError(OtelFeedbackError, LookupError):
    """A trace or assessment does not exist."""


class FilterSyntaxError(OtelFeedbackError, ValueError):
    """A search filter does not parse; the message quotes it and points at the token."""

    def __init__(self, filter_string: str, position: int, message: str) -> None:
        self.filter_string = filter_string
        self.position = position
        pointer = " " * position + "^"
        super().__init__(f"{message} at position {position}:\n  {filter_string}\n  {pointer}")
