"""Validation of assessment arguments. Every error names the argument and what was expected,
and nothing is emitted before every argument has passed."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from otelfeedback.assessments.entities import AssessmentError, AssessmentSource
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.semconv import AssessmentSourceType

MAX_NAME_LENGTH = 250
MAX_RATIONALE_LENGTH = 65_536
MAX_VALUE_JSON_LENGTH = 1_000_000

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_ASSESSMENT_ID = re.compile(r"a-[0-9a-f]{32}")


def check_trace_id(trace_id: Any, argument: str = "trace_id") -> str:
    """Return the trace id (32 lowercase hex, not all zero); accept uppercase and a ``0x``."""
    if not isinstance(trace_id, str):
        raise InvalidArgumentError(
            argument, f"expected a 32-character hex string, got {type(trace_id).__name__}"
        )
    value = trace_id.strip().lower().removeprefix("0x")
    if not _TRACE_ID.fullmatch(value) or value == "0" * 32:
        raise InvalidArgumentError(
            argument, f"expected a 32-character hex OpenTelemetry trace id, got {trace_id!r}"
        )
    return value


def check_span_id(span_id: Any, argument: str = "span_id") -> str | None:
    """Return the span id (16 lowercase hex, not all zero) or None."""
    if span_id is None:
        return None
    if not isinstance(span_id, str):
        raise InvalidArgumentError(
            argument, f"expected a 16-character hex string, got {type(span_id).__name__}"
        )
    value = span_id.strip().lower().removeprefix("0x")
    if not _SPAN_ID.fullmatch(value) or value == "0" * 16:
        raise InvalidArgumentError(
            argument, f"expected a 16-character hex OpenTelemetry span id, got {span_id!r}"
        )
    return value


def check_assessment_id(assessment_id: Any, argument: str = "assessment_id") -> str:
    if not isinstance(assessment_id, str) or not _ASSESSMENT_ID.fullmatch(assessment_id):
        raise InvalidArgumentError(
            argument, f"expected an assessment id like 'a-<32 hex>', got {assessment_id!r}"
        )
    return assessment_id


def check_name(name: Any, argument: str = "name") -> str:
    if not isinstance(name, str):
        raise InvalidArgumentError(argument, f"expected a string, got {type(name).__name__}")
    if not name.strip():
        raise InvalidArgumentError(argument, "must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgumentError(
            argument, f"must be at most {MAX_NAME_LENGTH} characters, got {len(name)}"
        )
    return name


def _check_json(value: Any, argument: str, path: str, depth: int) -> None:
    if depth > 64:
        raise InvalidArgumentError(argument, "nested more than 64 levels deep")
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(argument, f"{path} is {value!r}, which JSON cannot hold")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_json(item, argument, f"{path}[{index}]", depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidArgumentError(
                    argument, f"{path} has a non-string key {key!r}; JSON object keys are strings"
                )
            _check_json(item, argument, f"{path}[{key!r}]", depth + 1)
        return
    raise InvalidArgumentError(
        argument,
        f"{path} is a {type(value).__name__}; expected a JSON value "
        "(bool, number, string, list or dict of those)",
    )


def check_value(value: Any, argument: str = "value") -> Any:
    """Return ``value`` as plain JSON data (tuples become lists); raise if it is not JSON."""
    _check_json(value, argument, argument, 0)
    normalized = json.loads(json.dumps(value))
    if len(json.dumps(normalized)) > MAX_VALUE_JSON_LENGTH:
        raise InvalidArgumentError(
            argument, f"is larger than {MAX_VALUE_JSON_LENGTH} characters as JSON"
        )
    return normalized


def check_rationale(rationale: Any) -> str | None:
    if rationale is None:
        return None
    if not isinstance(rationale, str):
        raise InvalidArgumentError(
            "rationale", f"expected a string or None, got {type(rationale).__name__}"
        )
    if len(rationale) > MAX_RATIONALE_LENGTH:
        raise InvalidArgumentError(
            "rationale", f"must be at most {MAX_RATIONALE_LENGTH} characters"
        )
    return rationale


def check_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidArgumentError(
            "metadata", f"expected a dict with string keys, got {type(metadata).__name__}"
        )
    return dict(check_value(dict(metadata), "metadata"))


def check_source(source: Any, default: AssessmentSourceType) -> AssessmentSource:
    """Return a normalized ``AssessmentSource``; ``None`` gives ``default`` / ``"default"``
    (see ``AssessmentSource.parse``)."""
    if source is not None and not isinstance(source, AssessmentSource):
        raise InvalidArgumentError(
            "source", f"expected an AssessmentSource, got {type(source).__name__}"
        )
    return AssessmentSource.parse(source, default)


def check_error(error: Any) -> AssessmentError | None:
    """Accept an ``AssessmentError``, an exception or a message string."""
    if error is None or isinstance(error, AssessmentError):
        if error is not None and (not isinstance(error.error_code, str) or not error.error_code):
            raise InvalidArgumentError("error", "error_code must be a non-empty string")
        return error
    if isinstance(error, BaseException):
        return AssessmentError.from_exception(error)
    if isinstance(error, str) and error.strip():
        return AssessmentError("ASSESSMENT_ERROR", error)
    raise InvalidArgumentError(
        "error",
        f"expected an AssessmentError, an exception or a message, got {type(error).__name__}",
    )
