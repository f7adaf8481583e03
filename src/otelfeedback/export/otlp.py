"""Build the OTLP span exporter (HTTP/protobuf or gRPC) from settings."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlparse

from opentelemetry.sdk.trace.export import SpanExporter

from otelfeedback.errors import ConfigurationError, MissingExtraError

PROTOCOLS = ("http/protobuf", "grpc")


def traces_url(endpoint: str) -> str:
    """``endpoint`` as a full OTLP/HTTP traces URL: ``/v1/traces`` is added to a bare base."""
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigurationError(f"otlp_endpoint {endpoint!r}: expected an http:// or https:// URL")
    if parsed.path in ("", "/"):
        return endpoint.rstrip("/") + "/v1/traces"
    return endpoint


def build_otlp_exporter(
    endpoint: str | None,
    protocol: str,
    headers: Mapping[str, str] | None,
    timeout_ms: int,
) -> SpanExporter:
    """An OTLP exporter. With ``endpoint=None`` the exporter reads the standard
    ``OTEL_EXPORTER_OTLP_*`` variables itself (endpoint, headers, certificates)."""
    timeout = max(1, timeout_ms // 1000)
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(
            endpoint=traces_url(endpoint) if endpoint else None,
            headers=dict(headers) if headers else None,
            timeout=timeout,
        )
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )
        except ImportError:
            raise MissingExtraError("grpc", "OTLP export over gRPC") from None

        insecure = None
        if endpoint is not None:
            parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
            insecure = parsed.scheme == "http"
            endpoint = parsed.netloc
        return GrpcSpanExporter(
            endpoint=endpoint,
            insecure=insecure,
            headers=dict(headers) if headers else None,
            timeout=timeout,
        )
    raise ConfigurationError(f"otlp_protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
