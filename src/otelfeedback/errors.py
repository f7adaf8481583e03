"""The exceptions otelfeedback raises.

::

    OtelFeedbackError
    ├── ConfigurationError       a setting or configure() argument is invalid
    ├── MissingExtraError        an optional dependency is not installed (says what to install)
    ├── InvalidArgumentError     a public API call got a bad argument (also a ValueError)
    ├── NotFoundError            a trace, assessment or record does not exist (also a LookupError)
    ├── FilterSyntaxError        a search filter does not parse (also a ValueError)
    ├── ConflictError            a record changed since it was read (expected another version)
    ├── StoreWriteError          a record could not be written to a local store (also an OSError)
    └── StoreUnavailableError    the store's database cannot be reached now (retry later)
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


class ConflictError(OtelFeedbackError):
    """A record write expected another version than the store holds: someone else wrote it
    since it was read. Read it again and retry.

    Attributes:
        kind: the record's kind.
        record_id: the record's id.
        expected_version: the version the write expected (0: that it did not exist).
        actual_version: the version the store holds (0: none).
    """

    def __init__(
        self, kind: str, record_id: str, expected_version: int, actual_version: int
    ) -> None:
        self.kind = kind
        self.record_id = record_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"{kind} {record_id!r}: expected version {expected_version}, the store has "
            f"version {actual_version} (it changed since it was read)"
        )


class StoreWriteError(OtelFeedbackError, OSError):
    """A record could not be written to a local store: the disk is full, the directory is
    read-only or gone. The message names the store and the cause; nothing was recorded.
    (Spans are never waited on: their failures are counted in ``Configuration.stats()``.)"""


class StoreUnavailableError(OtelFeedbackError):
    """The store's database cannot be reached right now (down, restarting, the connection
    dropped, or every connection busy for too long). Nothing of the failed call was stored;
    retry later. The server answers 503 with ``Retry-After``."""
