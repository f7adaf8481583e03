"""``configure()``: wire a tracer provider, processors and exporters to the store.

Nothing happens at import. The first span configures the defaults lazily (the file store at
``./otelfeedback-data`` or ``OTELFEEDBACK_STORE``, plus OTLP when the standard
``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`` is set). We build our own ``TracerProvider`` and never
make it global unless ``set_global=True``; ``tracer_provider=`` joins an app's provider instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import (
    ParentBased,
    ParentBasedTraceIdRatio,
    Sampler,
    StaticSampler,
    TraceIdRatioBased,
)

from otelfeedback import config
from otelfeedback._internal import store_schemes
from otelfeedback._internal.meta import package_version
from otelfeedback.errors import ConfigurationError
from otelfeedback.export.batch import BoundedBatchSpanProcessor
from otelfeedback.export.console import ConsoleSpanExporter
from otelfeedback.export.file_store import FileStoreSpanExporter
from otelfeedback.export.otlp import OTLPSettings, build_otlp_exporter, otlp_settings
from otelfeedback.semconv import ASSESSMENT_CARRIER_SPAN_NAME
from otelfeedback.tracing import _state

_lock = threading.RLock()


@dataclass
class Configuration:
    """The active configuration, as ``configure()`` returned it."""

    tracer_provider: trace_api.TracerProvider
    store_path: Path | None
    capture_content: bool
    store_url: str | None = None
    #: The processor feeding the store (the file store, or the server in remote mode).
    store_processor: BoundedBatchSpanProcessor | None = None
    processors: list[BoundedBatchSpanProcessor] = field(default_factory=list)
    owns_provider: bool = True
    #: The default model of the LLM judges (``configure(judge_model=...)``).
    judge_model: str | None = None

    def stats(self) -> dict[str, dict[str, Any]]:
        """Export counters per exporter: queued, in_flight (the batch being exported or
        retried now), exported, dropped, failed."""
        return {type(p.exporter).__name__: p.stats() for p in self.processors}

    def flush(self, timeout: float | None = None) -> bool:
        """Export everything finished so far; True when it all went out in time."""
        millis = int((30.0 if timeout is None else timeout) * 1000)
        ok = True
        for processor in self.processors:
            ok = processor.force_flush(millis) and ok
        provider = self.tracer_provider
        if not self.processors and hasattr(provider, "force_flush"):
            ok = bool(provider.force_flush(millis)) and ok
        return ok

    def shutdown(self) -> None:
        if self.owns_provider and isinstance(self.tracer_provider, TracerProvider):
            self.tracer_provider.shutdown()
        else:
            for processor in self.processors:
                processor.shutdown()


_active: Configuration | None = None


def _store_location(store: str | os.PathLike[str] | None) -> tuple[Path | None, str | None]:
    """``(directory, None)`` for a file store, ``(None, url)`` for an otelfeedback server,
    ``(None, None)`` for no store."""
    value = config.resolve("store", store)
    if value is None or value == "" or value is False:
        return None, None
    text = os.fspath(value)
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme in ("http", "https"):
            return None, text.rstrip("/")
        if store_schemes.exporter_factory(text) is not None:
            return None, text  # a database: postgresql://...
        raise ConfigurationError(
            f"store={text.split('@')[-1]!r}: {scheme}:// stores are not available; give a "
            "directory (the JSON file store), a PostgreSQL URL (postgresql://...) or an "
            "otelfeedback server URL (http://...)"
        )
    return Path(text).expanduser().resolve(), None


def _is_assessment_carrier(span: ReadableSpan) -> bool:
    return span.name == ASSESSMENT_CARRIER_SPAN_NAME


def _processor(exporter: SpanExporter, settings: Mapping[str, int]) -> BoundedBatchSpanProcessor:
    # An assessment asks for durability: a local store writes its carrier before the
    # assessment function returns (and it raises StoreWriteError if it cannot).
    local = isinstance(exporter, FileStoreSpanExporter)
    return BoundedBatchSpanProcessor(
        exporter,
        write_through=_is_assessment_carrier if local else None,
        max_queue_size=settings["export_queue_size"],
        max_queue_bytes=settings["export_queue_bytes"],
        max_batch_size=settings["export_batch_size"],
        schedule_delay_ms=settings["export_delay_ms"],
        export_timeout_ms=settings["export_timeout_ms"],
        shutdown_timeout_ms=settings["shutdown_timeout_ms"],
    )


#: The SDK's samplers that decide without reading a span's attributes, and the fields of a
#: parent-based one holding its delegates.
_BLIND_SAMPLERS = (StaticSampler, TraceIdRatioBased)
_DELEGATES = (
    "_root",
    "_remote_parent_sampled",
    "_remote_parent_not_sampled",
    "_local_parent_sampled",
    "_local_parent_not_sampled",
)


def _reads_attributes(sampler: Sampler | None) -> bool:
    """Whether ``sampler`` may read the attributes a span starts with: ``False`` only for
    the SDK's own always-on/off and trace-id ratio samplers, and parent-based ones made of
    them (by exact type: a subclass may read anything)."""
    kind = type(sampler)
    if kind in _BLIND_SAMPLERS:
        return False
    if kind is ParentBased or kind is ParentBasedTraceIdRatio:
        return any(_reads_attributes(getattr(sampler, name, None)) for name in _DELEGATES)
    return True


def _quiet(provider: Any, processors: list[BoundedBatchSpanProcessor]) -> tuple[object, object]:
    """``TracingState.quiet_start`` and ``quiet_end``: the provider's tuple of span
    processors when they are exactly ours (whose ``on_start`` does nothing, and whose
    ``on_end`` queues the span for export), for the start only if its sampler reads no
    attribute either; ``None`` otherwise."""
    found = getattr(getattr(provider, "_active_span_processor", None), "_span_processors", None)
    # (processors compare by identity: a tuple of exactly ours, in order)
    end = found if found == tuple(processors) else None
    start = None if end is None or _reads_attributes(getattr(provider, "sampler", None)) else end
    return start, end


def configure(
    *,
    service_name: str | None = None,
    store: str | os.PathLike[str] | None = None,
    otlp_endpoint: str | None = None,
    otlp_protocol: str | None = None,
    otlp_headers: Mapping[str, str] | None = None,
    exporters: Sequence[SpanExporter] = (),
    tracer_provider: trace_api.TracerProvider | None = None,
    capture_content: bool | None = None,
    max_value_length: int | None = None,
    openai_attributes: str | None = None,
    console: bool | None = None,
    bridge: str | None = None,
    status_ok: bool | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    id_generator: IdGenerator | None = None,
    set_global: bool = False,
    export_queue_size: int | None = None,
    export_queue_bytes: int | None = None,
    export_batch_size: int | None = None,
    export_delay_ms: int | None = None,
    export_timeout_ms: int | None = None,
    shutdown_timeout_ms: int | None = None,
    file_max_bytes: int | None = None,
    judge_model: str | None = None,
) -> Configuration:
    """Configure where otelfeedback sends spans and assessments. Replaces any earlier
    configuration (flushing it first).

    Example::

        otelfeedback.configure(service_name="chatbot", otlp_endpoint="http://127.0.0.1:4318")

    Args:
        service_name: the ``service.name`` resource attribute.
        store: the JSON file store directory (default ``./otelfeedback-data``), a
            PostgreSQL URL (``postgresql://...``: spans go straight into the team store;
            needs ``otelfeedback[postgres]``), or the URL of an ``otelfeedback server``
            (remote mode: spans go to its OTLP receiver); ``""`` turns the store off.
        otlp_endpoint: also export over OTLP here: a base URL (``v1/traces`` is appended to
            its path) or a URL ending in ``/v1/traces``; see docs/export.md.
        otlp_protocol: ``http/protobuf`` (default), ``http/json`` or ``grpc``.
        otlp_headers: headers for OTLP export (e.g. auth), merged over
            ``OTEL_EXPORTER_OTLP_(TRACES_)HEADERS``; never recorded on spans.
        exporters: more span exporters, each behind its own bounded batch processor.
        tracer_provider: create our spans with this provider (the app's) instead of our
            own; we then add processors to it only for what you pass explicitly
            (``store``, ``otlp_endpoint``, ``exporters``).
        capture_content: record inputs/outputs and messages (default on).
        max_value_length: cap for one input/output value, in characters.
        openai_attributes: the attributes of OpenAI call spans: ``"lean"`` (default: what
            Phoenix, MLflow, OTel backends and our UI read, each fact once) or ``"full"``
            (also the duplicates in the other vocabulary); see docs/openai.md.
        console: also print each finished span to stderr.
        bridge: also write assessments natively into the OTLP backend: ``"phoenix"`` or
            ``"mlflow"`` (the bridge then does the OTLP export to ``otlp_endpoint``). For
            more control pass ``exporters=[PhoenixBridge(...)]``; see docs/backends.md.
        status_ok: set status OK on ``@trace`` / ``start_span`` spans that end without an
            exception (default on).
        resource_attributes: extra resource attributes.
        id_generator: a custom id generator (e.g. deterministic ids in tests).
        set_global: also make our provider the global OTel provider.
        export_queue_size, export_queue_bytes, export_batch_size, export_delay_ms,
        export_timeout_ms, shutdown_timeout_ms, file_max_bytes: export tuning; see
            docs/configuration.md and docs/export.md.
        judge_model: the default model of the LLM judges, e.g. ``"openai:/gpt-4o-mini"``
            (see docs/evaluation.md).

    Returns:
        The active ``Configuration`` (``stats()``, ``flush()``).

    Raises:
        ConfigurationError: a setting is invalid.
    """
    profile = _openai_attributes(openai_attributes)
    settings = {
        "export_queue_size": config.resolve("export_queue_size", export_queue_size),
        "export_queue_bytes": config.resolve("export_queue_bytes", export_queue_bytes),
        "export_batch_size": config.resolve("export_batch_size", export_batch_size),
        "export_delay_ms": config.resolve("export_delay_ms", export_delay_ms),
        "export_timeout_ms": config.resolve("export_timeout_ms", export_timeout_ms),
        "shutdown_timeout_ms": config.resolve("shutdown_timeout_ms", shutdown_timeout_ms),
    }
    if judge_model is not None and (not isinstance(judge_model, str) or not judge_model.strip()):
        raise ConfigurationError(
            f"judge_model: expected a model like 'openai:/gpt-4o-mini', got {judge_model!r}"
        )
    joined = tracer_provider is not None
    path, url = _store_location(store) if not joined or store is not None else (None, None)
    # Joining an app's provider, we export over OTLP only when asked to in this call.
    otlp = (
        otlp_settings(otlp_endpoint, otlp_protocol, otlp_headers, settings["export_timeout_ms"])
        if not joined or otlp_endpoint
        else None
    )
    span_exporters: list[SpanExporter] = []
    store_exporter: SpanExporter | None = None
    if path is not None:
        store_exporter = FileStoreSpanExporter(
            path, config.resolve("file_max_bytes", file_max_bytes)
        )
        span_exporters.append(store_exporter)
    factory = None if url is None else store_schemes.exporter_factory(url)
    if url is not None and factory is not None:  # a database: the store's own exporter
        store_exporter = factory(url)
        span_exporters.append(store_exporter)
    elif url is not None:  # remote mode: spans go to the server's OTLP receiver
        token = config.resolve("server_token")
        store_exporter = build_otlp_exporter(
            OTLPSettings(
                url + "/v1/traces",
                headers={"authorization": f"Bearer {token}"} if token else {},
                timeout_s=settings["export_timeout_ms"] / 1000,
            )
        )
        span_exporters.append(store_exporter)
    bridge_exporter = _bridge(bridge if joined else config.resolve("bridge", bridge), otlp)
    if bridge_exporter is not None:
        span_exporters.append(bridge_exporter)
    elif otlp is not None:
        span_exporters.append(build_otlp_exporter(otlp))
    if config.resolve("console", console):
        span_exporters.append(ConsoleSpanExporter())
    span_exporters.extend(exporters)
    processors = [_processor(e, settings) for e in span_exporters]

    if tracer_provider is None:
        attrs: dict[str, Any] = dict(resource_attributes or {})
        name = config.resolve("service_name", service_name)
        if name:
            attrs["service.name"] = name
        provider: trace_api.TracerProvider = TracerProvider(
            resource=Resource.create(attrs), id_generator=id_generator
        )
    else:
        provider = tracer_provider
    add: Any = getattr(provider, "add_span_processor", None)
    if processors and not callable(add):
        raise ConfigurationError(
            "tracer_provider: this provider cannot take span processors; pass an SDK "
            "TracerProvider, or no store/otlp_endpoint/exporters"
        )
    for processor in processors:
        add(processor)
    if set_global:
        trace_api.set_tracer_provider(provider)

    new = Configuration(
        tracer_provider=provider,
        store_path=path,
        store_url=url,
        store_processor=next((p for p in processors if p.exporter is store_exporter), None),
        capture_content=bool(config.resolve("capture_content", capture_content)),
        processors=processors,
        owns_provider=not joined,
        judge_model=config.resolve("judge_model", judge_model),
    )
    quiet_start, quiet_end = (None, None) if joined else _quiet(provider, processors)
    state = _state.TracingState(
        tracer=provider.get_tracer("otelfeedback", package_version()),
        capture_content=new.capture_content,
        max_value_length=int(config.resolve("max_value_length", max_value_length)),
        status_ok=bool(config.resolve("status_ok", status_ok)),
        openai_attributes=profile,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )
    _replace(new, state)
    return new


def _openai_attributes(explicit: Any) -> str:
    """The OpenAI attribute profile from the argument or ``OTELFEEDBACK_OPENAI_ATTRIBUTES``.

    Raises:
        ConfigurationError: not ``"lean"`` or ``"full"``.
    """
    if explicit is not None and not isinstance(explicit, str):
        raise ConfigurationError(f"openai_attributes: expected 'lean' or 'full', got {explicit!r}")
    try:
        return config.parse_openai_attributes(config.resolve("openai_attributes", explicit))
    except ValueError as exc:
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(f"openai_attributes={explicit!r}: {exc}") from None


def _bridge(bridge: str | None, otlp: OTLPSettings | None) -> SpanExporter | None:
    """The bridge named ``bridge`` for the OTLP endpoint, or None."""
    if not bridge:
        return None
    from otelfeedback.bridges import bridge_for_endpoint

    return bridge_for_endpoint(bridge, otlp)


def _replace(new: Configuration | None, state: _state.TracingState | None) -> None:
    """Make ``new`` active, then shut the previous one down: it exports what it holds
    within ``shutdown_timeout_ms`` per exporter (a dead backend does not hold us longer)."""
    global _active
    with _lock:
        old, _active = _active, new
        _state.install(state)
    if old is not None:
        old.shutdown()


def configure_default() -> None:
    """Configure the defaults unless configured (the first span's set-up)."""
    if _active is None:
        configure()


def get_configuration() -> Configuration | None:
    """The active configuration, or ``None`` before the first span / ``configure()``."""
    return _active


def get_store_location() -> tuple[Path | None, str | None]:
    """Where reads go: ``(directory, None)`` for a file store, ``(None, url)`` for a server,
    ``(None, None)`` for no store. The active configuration's store, else where the
    defaults would put it (settings, environment) — without configuring anything."""
    active = _active
    if active is not None:
        return active.store_path, active.store_url
    return _store_location(None)


def flush(timeout: float | None = None) -> bool:
    """Export every finished span now. Returns True when all went out within ``timeout``
    seconds (default 30)."""
    active = _active
    return True if active is None else active.flush(timeout)


def reset() -> None:
    """Flush and shut down the active configuration and forget it (for tests and
    notebooks); the next span configures the defaults again."""
    _replace(None, None)
