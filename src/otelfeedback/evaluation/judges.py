"""Calling an LLM judge: the model spec (``openai:/gpt-4o-mini``), the ``openai`` client
(so any OpenAI-compatible server works), structured output with a tolerant fallback, the
mapping of failures to error codes, and the EVALUATOR span each call is recorded as.

The client retries 429, 5xx, timeouts and connection errors with exponential backoff
(honouring ``retry-after``); what still fails becomes a ``JudgeError``, never a crash.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from otelfeedback import config, setup
from otelfeedback import semconv as sc
from otelfeedback.errors import ConfigurationError, InvalidArgumentError, MissingExtraError
from otelfeedback.evaluation.verdicts import JudgeError, ValueSpec, parse_verdict
from otelfeedback.tracing import start_span

PROVIDERS = ("openai",)
_SPEC = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*):/?(\S.*)")
#: Words of a 400 answer that mean "this server does not do structured output".
_NO_SCHEMA_HINTS = ("response_format", "json_schema", "structured output", "not supported")

#: Whether judge calls open an EVALUATOR span (``evaluate`` sets it for its workers).
tracing_judges: ContextVar[bool | None] = ContextVar("otelfeedback_trace_judges", default=None)


@dataclass(frozen=True)
class JudgeModel:
    """A judge model: ``provider`` (``openai``) and the model's ``name``."""

    provider: str
    name: str

    @property
    def uri(self) -> str:
        """``openai:/gpt-4o-mini``: the assessment's ``source_id``."""
        return f"{self.provider}:/{self.name}"


def default_model_spec() -> str:
    """``configure(judge_model=...)``, else ``OTELFEEDBACK_JUDGE_MODEL``, else the default."""
    configuration = setup.get_configuration()
    if configuration is not None and configuration.judge_model:
        return configuration.judge_model
    return str(config.resolve("judge_model"))


def parse_model(spec: Any, argument: str = "model") -> JudgeModel:
    """The ``JudgeModel`` of ``"openai:/gpt-4o-mini"`` (``None``: the default model).

    Raises:
        InvalidArgumentError: not ``<provider>:/<model>``, or a provider other than openai.
    """
    if spec is None:
        spec, argument = default_model_spec(), "judge_model (OTELFEEDBACK_JUDGE_MODEL)"
    if isinstance(spec, JudgeModel):
        return spec
    match = _SPEC.fullmatch(spec.strip()) if isinstance(spec, str) else None
    if match is None:
        raise InvalidArgumentError(
            argument, f"expected '<provider>:/<model>' like 'openai:/gpt-4o-mini', got {spec!r}"
        )
    provider, name = match.group(1).lower(), match.group(2).strip()
    if provider not in PROVIDERS:
        raise InvalidArgumentError(
            argument,
            f"provider {provider!r} is not supported; use 'openai:/<model>' — any "
            "OpenAI-compatible server (vLLM, Ollama, a gateway) works through "
            "OPENAI_BASE_URL or OTELFEEDBACK_JUDGE_BASE_URL",
        )
    return JudgeModel(provider, name)


@dataclass(frozen=True)
class Endpoint:
    """Where judge calls go and how: base URL (None: api.openai.com), key, timeout (s),
    retries."""

    base_url: str | None
    api_key: str
    timeout: float
    max_retries: int


def resolve_endpoint() -> Endpoint:
    """The judges' endpoint from the settings and the ``openai`` client's own variables.

    Raises:
        ConfigurationError: no API key and no server URL (the judge would call
            api.openai.com without credentials).
    """
    base_url = config.resolve("judge_base_url") or os.environ.get("OPENAI_BASE_URL") or None
    api_key = config.resolve("judge_api_key") or os.environ.get("OPENAI_API_KEY")
    if not api_key:
        if base_url is None:
            raise ConfigurationError(
                "LLM judges call the OpenAI API: set OPENAI_API_KEY, or point OPENAI_BASE_URL "
                "(or OTELFEEDBACK_JUDGE_BASE_URL) at an OpenAI-compatible server"
            )
        api_key = "unused"  # a local server (vLLM, Ollama) needs none; the client wants one
    return Endpoint(
        base_url,
        api_key,
        float(config.resolve("judge_timeout")),
        int(config.resolve("judge_max_retries")),
    )


_clients: dict[Endpoint, Any] = {}
_clients_lock = threading.Lock()
#: (base URL, model) pairs that refused structured output: ask them for plain JSON.
_plain_json: set[tuple[str | None, str]] = set()


def client_for(endpoint: Endpoint) -> Any:
    """One ``openai.OpenAI`` client per endpoint, shared by every thread.

    Raises:
        MissingExtraError: ``openai`` is not installed.
    """
    with _clients_lock:
        client = _clients.get(endpoint)
        if client is None:
            try:
                import openai
            except ImportError:
                raise MissingExtraError("openai", "LLM judges") from None
            client = _clients[endpoint] = openai.OpenAI(
                base_url=endpoint.base_url,
                api_key=endpoint.api_key,
                timeout=endpoint.timeout,
                max_retries=endpoint.max_retries,
            )
        return client


def _classify(exc: Exception) -> JudgeError:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return JudgeError("JUDGE_TIMEOUT", f"the judge did not answer in time: {exc}")
    if isinstance(exc, openai.RateLimitError):
        return JudgeError("JUDGE_RATE_LIMITED", f"still rate limited after retries: {exc}")
    if isinstance(exc, openai.APIStatusError):
        return JudgeError(f"JUDGE_HTTP_{exc.status_code}", str(exc))
    if isinstance(exc, openai.APIConnectionError):
        return JudgeError("JUDGE_UNREACHABLE", f"cannot reach the judge's server: {exc}")
    if isinstance(exc, (openai.APIResponseValidationError, ValueError)):
        return JudgeError("JUDGE_MALFORMED_RESPONSE", f"the server's answer is not valid: {exc}")
    return JudgeError("JUDGE_ERROR", f"{type(exc).__name__}: {exc}")


def _wants_plain_json(exc: Exception) -> bool:
    import openai

    return isinstance(exc, openai.BadRequestError) and any(
        hint in str(exc).lower() for hint in _NO_SCHEMA_HINTS
    )


def complete(
    model: JudgeModel, messages: list[dict[str, str]], spec: ValueSpec, endpoint: Endpoint
) -> tuple[Any, str | None]:
    """Ask the judge; ``(value, rationale)``.

    Raises:
        JudgeError: it failed, refused or answered something we cannot read.
    """
    client = client_for(endpoint)
    key = (endpoint.base_url, model.name)
    structured = {
        "type": "json_schema",
        "json_schema": {"name": "judgement", "strict": True, "schema": spec.schema()},
    }
    try:
        if key in _plain_json:
            completion = client.chat.completions.create(model=model.name, messages=messages)
        else:
            try:
                completion = client.chat.completions.create(
                    model=model.name, messages=messages, response_format=structured
                )
            except Exception as exc:
                if not _wants_plain_json(exc):
                    raise
                _plain_json.add(key)
                completion = client.chat.completions.create(model=model.name, messages=messages)
    except Exception as exc:
        raise _classify(exc) from exc
    try:
        choice = completion.choices[0]
        message = choice.message
    except (AttributeError, IndexError, TypeError):
        raise JudgeError("JUDGE_MALFORMED_RESPONSE", "the answer has no choices") from None
    refusal = getattr(message, "refusal", None)
    if refusal or getattr(choice, "finish_reason", None) == "content_filter":
        raise JudgeError("JUDGE_REFUSED", f"the judge refused: {refusal or 'content filter'}")
    content = getattr(message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise JudgeError("JUDGE_MALFORMED_ANSWER", "the judge's answer is empty")
    return parse_verdict(content, spec)


@contextmanager
def judge_span(
    scorer_name: str, model: JudgeModel, prompt_hash: str, messages: list[dict[str, str]]
) -> Iterator[Any]:
    """The EVALUATOR span of one judge call (none when judge tracing is off); yields the
    ``LiveSpan`` or None."""
    enabled = tracing_judges.get()
    if enabled is None:
        enabled = bool(config.resolve("eval_trace_judges"))
    if not enabled:
        yield None
        return
    attributes = {
        sc.GEN_AI_REQUEST_MODEL: model.name,
        sc.GEN_AI_EVALUATION_NAME: scorer_name,
        sc.JUDGE_MODEL: model.uri,
        sc.PROMPT_HASH: prompt_hash,
    }
    # The user message only: the system text is the same for every call of this prompt hash.
    prompt = messages[-1]["content"]
    with start_span(f"judge {scorer_name}", "EVALUATOR", prompt, attributes) as span:
        yield span
