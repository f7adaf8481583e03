"""The settings registry: every ``OTELFEEDBACK_*`` variable, declared once.

Precedence: an explicit argument, then the environment variable, then its OTel fallback
(where one exists), then the default. Nothing is read at import time; ``resolve()`` reads the
environment when it is called. ``docs/configuration.md`` is generated from ``SETTINGS``
(``make docs``) and a test fails when the two differ.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from otelfeedback.errors import ConfigurationError


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true/false")


def _parse_capture(raw: str) -> bool:
    """true/false, or the OTel GenAI capture modes: content goes on spans only for
    ``SPAN_ONLY`` and ``SPAN_AND_EVENT``; ``NO_CONTENT`` and ``EVENT_ONLY`` (we emit no
    content events) turn it off."""
    mode = raw.strip().upper()
    if mode in ("SPAN_ONLY", "SPAN_AND_EVENT"):
        return True
    if mode in ("NO_CONTENT", "EVENT_ONLY"):
        return False
    try:
        return _parse_bool(raw)
    except ValueError:
        raise ValueError(
            "expected true/false or SPAN_ONLY, SPAN_AND_EVENT, EVENT_ONLY, NO_CONTENT"
        ) from None


def _parse_int(raw: str) -> int:
    value = int(raw.strip())
    if value < 0:
        raise ValueError("expected a non-negative integer")
    return value


def _parse_seconds(raw: str) -> float:
    value = float(raw.strip())
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a positive number of seconds")
    return value


def _parse_str(raw: str) -> str:
    return raw.strip()


#: The OpenAI span attribute profiles (``openai_attributes``); see docs/openai.md.
OPENAI_ATTRIBUTE_PROFILES: Final[tuple[str, ...]] = ("lean", "full")


def parse_openai_attributes(raw: str) -> str:
    """``lean`` or ``full`` (any case, surrounding blanks ignored).

    Raises:
        ValueError: any other value.
    """
    value = raw.strip().lower()
    if value not in OPENAI_ATTRIBUTE_PROFILES:
        raise ValueError(f"expected one of {', '.join(OPENAI_ATTRIBUTE_PROFILES)}")
    return value


_DURATION_UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_duration(raw: str) -> int:
    """A duration such as ``30d``, ``12h``, ``90m``, ``45s`` or ``2w``, in milliseconds.

    Raises:
        ValueError: not a positive number followed by one of s, m, h, d, w.
    """
    text = raw.strip().lower()
    unit = _DURATION_UNITS.get(text[-1:])
    number = text[:-1].strip()
    if unit is None or not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise ValueError("expected a duration such as 30d, 12h, 90m, 45s or 2w")
    return int(float(number) * unit)


def _parse_optional_duration(raw: str) -> int | None:
    return None if not raw.strip() else parse_duration(raw)


def _parse_optional_bool(raw: str) -> bool | None:
    if raw.strip().lower() in ("", "auto"):
        return None
    return _parse_bool(raw)


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, type, default and a one-line doc."""

    name: str
    env: str
    type: str
    default: Any
    doc: str
    parse: Callable[[str], Any]
    otel_fallbacks: tuple[str, ...] = ()
    env_only: bool = False


def _setting(
    name: str,
    default: Any,
    doc: str,
    kind: str = "str",
    otel: tuple[str, ...] = (),
    env_only: bool = False,
) -> Setting:
    parsers: dict[str, Callable[[str], Any]] = {
        "str": _parse_str,
        "bool": _parse_bool,
        "int": _parse_int,
        "seconds": _parse_seconds,
        "bool|auto": _parse_optional_bool,
        "capture": _parse_capture,
        "lean|full": parse_openai_attributes,
        "duration": _parse_optional_duration,
    }
    env = f"OTELFEEDBACK_{name.upper()}"
    return Setting(name, env, kind, default, doc, parsers[kind], otel, env_only)


SETTINGS: Final[tuple[Setting, ...]] = (
    _setting(
        "store",
        "./otelfeedback-data",
        "Where spans and assessments go: a directory (the JSON file store), a PostgreSQL "
        "URL (`postgresql://...`, the team store) or an otelfeedback server URL. Empty "
        "disables the store.",
    ),
    _setting(
        "service_name", None, "The `service.name` resource attribute.", otel=("OTEL_SERVICE_NAME",)
    ),
    _setting(
        "capture_content",
        True,
        "Record inputs, outputs and LLM messages. Off keeps only structure, timing "
        "and token counts.",
        "capture",
        otel=("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",),
    ),
    _setting(
        "max_value_length",
        65536,
        "Largest input/output value kept on a span, in characters; longer values are "
        "cut and marked truncated.",
        "int",
    ),
    _setting(
        "openai_attributes",
        "lean",
        "Attributes of an OpenAI call's span: `lean` keeps one attribute per fact that "
        "Phoenix, MLflow, generic OTel backends and our UI read (`gen_ai.*`, plus "
        "OpenInference's kind, input/output and messages); `full` adds the duplicates in "
        "the other vocabulary (`llm.model_name`, `llm.token_count.*`, "
        "`llm.invocation_parameters`...) and the OpenAI-specific extras. See docs/openai.md.",
        "lean|full",
    ),
    _setting(
        "otlp_endpoint",
        None,
        "Also export over OTLP to this endpoint. A base URL gets `v1/traces` appended to its "
        "path (as `OTEL_EXPORTER_OTLP_ENDPOINT` does); a URL already ending in `/v1/traces`, "
        "and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, are used as they are. Empty: no OTLP.",
        otel=("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ),
    _setting(
        "otlp_protocol",
        "http/protobuf",
        "OTLP transport: `http/protobuf` (default), `http/json` or `grpc`. An unsupported "
        "value from the environment is warned about once and the default used.",
        otel=("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
    ),
    _setting(
        "bridge",
        None,
        "Also write every assessment natively into the OTLP backend through its REST API: "
        "`phoenix` (annotations) or `mlflow` (assessments). Needs `otlp_endpoint`.",
    ),
    _setting(
        "server_token",
        None,
        "Token for an `otelfeedback server` bound beyond loopback: the server requires "
        "it, and the SDK sends it in remote mode.",
        env_only=True,
    ),
    _setting(
        "server_public_hosts",
        None,
        "Host names (comma-separated) a token-guarded `otelfeedback server` answers besides "
        "loopback ones, e.g. the name a reverse proxy forwards; any other `Host` gets 421.",
        env_only=True,
    ),
    _setting(
        "status_ok",
        True,
        "Set status OK on spans of `@trace` and `start_span` that end without an exception. "
        "Off leaves it unset (for libraries that must not decide their callers' status).",
        "bool",
    ),
    _setting(
        "server_url",
        "http://127.0.0.1:5050",
        "Where reviewers reach `otelfeedback server`: the base of the review links a file "
        "store's labeling sessions give (in remote mode the store's URL is used).",
        env_only=True,
    ),
    _setting("console", False, "Also print a line per finished span to stderr.", "bool"),
    _setting(
        "export_queue_size",
        0,
        "Spans held for export at most, per exporter; beyond it new spans are dropped and "
        "counted, never blocking the app. 0: no count bound (`export_queue_bytes` holds).",
        "int",
        otel=("OTEL_BSP_MAX_QUEUE_SIZE",),
    ),
    _setting(
        "export_queue_bytes",
        128 * 1024 * 1024,
        "Memory the spans held for export may take, per exporter (estimated from their "
        "attribute values); beyond it new spans are dropped and counted, never blocking the "
        "app. A single span larger than this is dropped.",
        "int",
    ),
    _setting(
        "export_batch_size",
        512,
        "Spans per export call at most (an export call also takes at most 8 MiB of spans).",
        "int",
        otel=("OTEL_BSP_MAX_EXPORT_BATCH_SIZE",),
    ),
    _setting(
        "export_delay_ms",
        500,
        "Longest wait before a partial batch is exported.",
        "int",
        otel=("OTEL_BSP_SCHEDULE_DELAY",),
    ),
    _setting(
        "export_timeout_ms",
        10000,
        "Longest an export call may take.",
        "int",
        otel=("OTEL_BSP_EXPORT_TIMEOUT",),
    ),
    _setting(
        "shutdown_timeout_ms",
        3000,
        "Longest the process waits at exit (or on `reset()` / a new `configure()`) for "
        "each exporter's spans still queued or being exported; what is left then is "
        "counted as dropped.",
        "int",
    ),
    _setting(
        "file_max_bytes",
        64 * 1024 * 1024,
        "Size at which the file store starts a new segment file.",
        "int",
    ),
    _setting(
        "judge_model",
        "openai:/gpt-4o-mini",
        "Default model of the LLM judges (`otelfeedback.scorers`): `openai:/<model>`, called "
        "with the `openai` client, so any OpenAI-compatible server works.",
    ),
    _setting(
        "judge_base_url",
        None,
        "Base URL of the judges' OpenAI-compatible server (vLLM, Ollama...); unset: the "
        "`openai` client's own `OPENAI_BASE_URL`, else api.openai.com.",
        env_only=True,
    ),
    _setting(
        "judge_api_key",
        None,
        "API key for the judges' server; unset: `OPENAI_API_KEY` (a server given by URL "
        "needs none).",
        env_only=True,
    ),
    _setting(
        "judge_timeout",
        60.0,
        "Seconds one judge call may take before it is retried (then recorded as an error).",
        "seconds",
        env_only=True,
    ),
    _setting(
        "judge_max_retries",
        3,
        "Retries of a judge call on 429, 5xx, timeouts and connection errors, with "
        "exponential backoff (the server's `retry-after` is honoured).",
        "int",
        env_only=True,
    ),
    _setting(
        "eval_max_workers",
        10,
        "`evaluate()`: rows predicted at once, and scorer calls (judge calls) at once.",
        "int",
        env_only=True,
    ),
    _setting(
        "eval_progress",
        None,
        "`evaluate()`: show a progress bar. `auto` (the default): in a terminal or a "
        "notebook, never when `CI` is set.",
        "bool|auto",
        env_only=True,
    ),
    _setting(
        "eval_trace_judges",
        True,
        "`evaluate()`: record each judge call as an EVALUATOR span (a trace of its own, "
        "tied to the run).",
        "bool",
        env_only=True,
    ),
    _setting(
        "model_prices",
        None,
        "A JSON file of model prices for the UI's cost figures, in USD per million tokens: "
        '`{"model-name-prefix": {"input": 2.5, "output": 10}}`, merged over the built-in '
        "table of well-known models.",
        env_only=True,
    ),
    _setting(
        "retention",
        None,
        "`otelfeedback server` on PostgreSQL: delete traces that started longer ago than "
        "this (`30d`, `12h`...), checked every hour. Unset keeps everything.",
        "duration",
        env_only=True,
    ),
    _setting(
        "raise_internal_errors",
        None,
        "Raise otelfeedback's own internal errors instead of logging them. `auto` "
        "(the default) raises only under pytest.",
        "bool|auto",
        env_only=True,
    ),
)

_BY_NAME: Final[dict[str, Setting]] = {s.name: s for s in SETTINGS}


def default(name: str) -> Any:
    """The default of setting ``name`` (what ``resolve`` gives when nothing sets it)."""
    return _BY_NAME[name].default


def resolve(name: str, explicit: Any = None, environ: Mapping[str, str] | None = None) -> Any:
    """Return the value of setting ``name``: ``explicit`` if given, else the environment,
    else the OTel fallback variables, else the default.

    Raises:
        ConfigurationError: the variable is set to something that does not parse.
    """
    return lookup(name, explicit, environ)[0]


def lookup(
    name: str, explicit: Any = None, environ: Mapping[str, str] | None = None
) -> tuple[Any, str | None]:
    """Like ``resolve``, and also say where the value came from: the name of the environment
    variable that gave it, or ``None`` for the explicit argument or the default.

    Raises:
        ConfigurationError: the variable is set to something that does not parse.
    """
    setting = _BY_NAME[name]
    if explicit is not None:
        return explicit, None
    env = os.environ if environ is None else environ
    for var in (setting.env, *setting.otel_fallbacks):
        raw = env.get(var)
        if raw is None:
            continue
        try:
            return setting.parse(raw), var
        except ValueError as exc:
            raise ConfigurationError(f"{var}={raw!r}: {exc}") from None
    return setting.default, None


def render_markdown() -> str:
    """The configuration reference page (``docs/configuration.md``)."""
    lines = [
        "# Configuration",
        "",
        "<!-- generated from otelfeedback/config.py by `make docs`; do not edit by hand -->",
        "",
        "Every setting can be given as an argument to `otelfeedback.configure()` (same name;",
        "settings marked *env only* excepted), or as an environment variable. An argument",
        "wins over the variable, the variable over its OpenTelemetry fallback, and that over",
        "the default.",
        "",
        "| setting | variable | OTel fallback | type | default | what it does |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        fallback = ", ".join(f"`{v}`" for v in s.otel_fallbacks) or "–"
        default = "auto" if s.default is None and s.type == "bool|auto" else repr(s.default)
        doc = f"{s.doc} *(env only)*" if s.env_only else s.doc
        lines.append(f"| `{s.name}` | `{s.env}` | {fallback} | {s.type} | `{default}` | {doc} |")
    lines.append("")
    return "\n".join(lines)
