"""The OTLP trace exporter, configured the way the OpenTelemetry exporter specification says.

Settings (argument, then ``OTELFEEDBACK_*``, then the OTel variables; signal-specific
``OTEL_EXPORTER_OTLP_TRACES_*`` before the generic ``OTEL_EXPORTER_OTLP_*``):

- **endpoint**: ``OTEL_EXPORTER_OTLP_ENDPOINT`` is a base URL: ``v1/traces`` is appended to its
  path (``http://host/otlp`` → ``http://host/otlp/v1/traces``). ``..._TRACES_ENDPOINT`` is used
  as it is (``/`` when it has no path). The ``otlp_endpoint`` argument is a base URL too,
  unless it already ends in ``/v1/traces``. For gRPC only the host and port count, and the
  scheme says whether TLS is used.
- **protocol**: ``http/protobuf`` (default), ``http/json``, ``grpc``;
- **headers**: ``key=value`` pairs separated by commas, values percent-decoded; the generic
  variable, then the signal's, then the ``otlp_headers`` argument, later ones winning per key;
- **timeout** (milliseconds), **compression** (``gzip`` or ``none``).

A value from the environment that we cannot use gets one warning per configuration (naming
the variable, never a header value) and is replaced by the default, so a typo never turns
tracing or the local store off. The same mistake in an argument raises ``ConfigurationError``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse, urlunparse

from opentelemetry.sdk.trace.export import SpanExporter

from otelfeedback import config
from otelfeedback.errors import ConfigurationError, MissingExtraError

PROTOCOLS = ("http/protobuf", "http/json", "grpc")
DEFAULT_PROTOCOL = "http/protobuf"
_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
_GENERIC_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"

logger = logging.getLogger("otelfeedback")


@dataclass(frozen=True)
class OTLPSettings:
    """Everything the OTLP exporter needs, resolved.

    ``endpoint`` is the full traces URL for HTTP, or the URL (or ``host:port``) for gRPC.
    """

    endpoint: str
    protocol: str = DEFAULT_PROTOCOL
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0
    compression: str | None = None


def _warn(message: str) -> None:
    logger.warning("otelfeedback: %s", message)


def _reject(source: str | None, message: str, instead: str) -> None:
    """An unusable value: raise for an argument (``source`` None), warn for a variable."""
    if source is None:
        raise ConfigurationError(message)
    _warn(f"{message}; {instead}")


def base_traces_url(base: str) -> str:
    """``v1/traces`` appended to the path of a base URL (the spec's rule for
    ``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    parsed = urlparse(base)
    path = parsed.path if parsed.path.endswith("/") else parsed.path + "/"
    return urlunparse(parsed._replace(path=path + "v1/traces"))


def _signal_url(url: str) -> str:
    parsed = urlparse(url)
    return url if parsed.path else urlunparse(parsed._replace(path="/"))


def _http_url(value: str, source: str | None) -> str | None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        name = source or "otlp_endpoint"
        _reject(source, f"{name} {value!r}: expected an http:// or https:// URL", "no OTLP export")
        return None
    if source == _TRACES_ENDPOINT:
        return _signal_url(value)
    if source != _GENERIC_ENDPOINT and parsed.path.rstrip("/").endswith("/v1/traces"):
        return value
    return base_traces_url(value)


def parse_headers(raw: str | None, variable: str) -> dict[str, str]:
    """Headers from a ``key=value,key2=value2`` variable (keys lower-cased, values
    percent-decoded); malformed entries are skipped with one warning."""
    headers: dict[str, str] = {}
    skipped = 0
    for entry in (raw or "").split(","):
        if not entry.strip():
            continue
        key, sep, value = entry.partition("=")
        key = unquote(key).strip().lower()
        if not sep or not key:
            skipped += 1
            continue
        headers[key] = unquote(value).strip()
    if skipped:
        _warn(f"{variable}: skipped {skipped} entry(ies) that are not key=value")
    return headers


def _env_timeout_s(env: Mapping[str, str]) -> float | None:
    for var in ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
        raw = env.get(var)
        if raw is None or not raw.strip():
            continue
        try:
            millis = float(raw)
        except ValueError:
            millis = -1.0
        if millis > 0:
            return millis / 1000
        _warn(f"{var}={raw!r}: expected a positive number of milliseconds; using the default")
    return None


def _env_compression(env: Mapping[str, str]) -> str | None:
    for var in ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"):
        raw = env.get(var)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value == "gzip":
            return "gzip"
        if value not in ("", "none"):
            _warn(f"{var}={raw!r}: expected gzip or none; sending uncompressed")
        return None
    return None


def otlp_settings(
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_ms: int = 10000,
    environ: Mapping[str, str] | None = None,
) -> OTLPSettings | None:
    """Resolve the OTLP settings from the arguments and the environment; ``None`` when no
    endpoint is configured (or ``endpoint=""``).

    Raises:
        ConfigurationError: an argument is unusable (environment values only warn).
    """
    env = os.environ if environ is None else environ
    proto, proto_source = config.lookup("otlp_protocol", protocol, env)
    proto = str(proto).strip().lower()
    if proto not in PROTOCOLS:
        _reject(
            proto_source,
            f"{proto_source or 'otlp_protocol'} {proto!r}: expected one of {', '.join(PROTOCOLS)}",
            f"using {DEFAULT_PROTOCOL}",
        )
        proto = DEFAULT_PROTOCOL
    value, source = config.lookup("otlp_endpoint", endpoint, env)
    if not value:
        return None
    url: str | None = str(value).strip()
    if proto != "grpc":
        url = _http_url(str(url), source)
        if url is None:
            return None
    merged = parse_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS"), "OTEL_EXPORTER_OTLP_HEADERS")
    merged.update(
        parse_headers(
            env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
        )
    )
    merged.update({k.lower(): v for k, v in (headers or {}).items()})
    timeout_s = _env_timeout_s(env) or max(0.001, timeout_ms / 1000)
    return OTLPSettings(str(url), proto, merged, timeout_s, _env_compression(env))


def _grpc_target(endpoint: str) -> tuple[str, bool | None]:
    """``(host:port, insecure)`` for the gRPC exporter; ``insecure`` None lets the exporter
    read ``OTEL_EXPORTER_OTLP_INSECURE`` for a URL without a scheme."""
    if "://" not in endpoint:
        return endpoint, None
    parsed = urlparse(endpoint)
    return parsed.netloc, parsed.scheme == "http"


def build_otlp_exporter(settings: OTLPSettings) -> SpanExporter:
    """The span exporter for ``settings`` (never reads the endpoint from the environment)."""
    gzip = settings.compression == "gzip"
    if settings.protocol in ("http/protobuf", "http/json"):
        from otelfeedback.export.otlp_http import OTLPHttpSpanExporter

        return OTLPHttpSpanExporter(
            settings.endpoint,
            settings.headers,
            settings.timeout_s,
            settings.compression,
            encoding="json" if settings.protocol == "http/json" else "protobuf",
        )
    if settings.protocol == "grpc":
        try:
            import grpc
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )
        except ImportError:
            raise MissingExtraError("grpc", "OTLP export over gRPC") from None

        target, insecure = _grpc_target(settings.endpoint)
        return GrpcSpanExporter(
            endpoint=target,
            insecure=insecure,
            headers=tuple(settings.headers.items()),
            timeout=settings.timeout_s,
            compression=grpc.Compression.Gzip if gzip else grpc.Compression.NoCompression,
        )
    raise ConfigurationError(
        f"otlp_protocol {settings.protocol!r}: expected one of {', '.join(PROTOCOLS)}"
    )
