"""Backend bridges: feedback that Arize Phoenix and MLflow show as their own.

Neither backend reads annotations from OTLP, so a bridge is a span exporter that sends the
spans over plain OTLP and also writes every assessment record (create, update, override,
delete; feedback and expectations; trace- and span-level) through the backend's REST API,
from its own bounded worker. One line turns it on::

    otelfeedback.configure(otlp_endpoint="http://127.0.0.1:6006", bridge="phoenix")
    otelfeedback.configure(otlp_endpoint="http://127.0.0.1:5000", bridge="mlflow",
                           otlp_headers={"x-mlflow-experiment-id": "1"})

or, with every option, an exporter object::

    from otelfeedback.bridges import PhoenixBridge
    otelfeedback.configure(exporters=[PhoenixBridge("http://127.0.0.1:6006", project="chatbot")])

See docs/backends.md.
"""

from __future__ import annotations

from urllib.parse import urlparse, urlunparse

from otelfeedback.bridges.exporter import BridgeSpanExporter
from otelfeedback.bridges.mlflow import MLflowBridge
from otelfeedback.bridges.phoenix import PhoenixBridge
from otelfeedback.errors import ConfigurationError
from otelfeedback.export.otlp import OTLPSettings

BRIDGES: dict[str, type[PhoenixBridge] | type[MLflowBridge]] = {
    "phoenix": PhoenixBridge,
    "mlflow": MLflowBridge,
}


def rest_base_url(traces_url: str) -> str:
    """The backend's base URL from its OTLP traces URL: ``/v1/traces`` taken off the end
    (``http://host:6006/v1/traces`` → ``http://host:6006``)."""
    parsed = urlparse(traces_url)
    path = parsed.path.rstrip("/")
    path = path[: -len("/v1/traces")] if path.endswith("/v1/traces") else path
    return urlunparse(parsed._replace(path=path, query="", fragment=""))


def bridge_for_endpoint(name: str, otlp: OTLPSettings | None) -> BridgeSpanExporter:
    """The bridge called ``name`` for the configured OTLP endpoint (what
    ``configure(bridge=...)`` builds).

    Raises:
        ConfigurationError: an unknown bridge, no OTLP endpoint, or OTLP over gRPC.
    """
    kind = BRIDGES.get(name.strip().lower())
    if kind is None:
        raise ConfigurationError(f"bridge {name!r}: expected one of {', '.join(BRIDGES)}")
    if otlp is None:
        raise ConfigurationError(
            f"bridge={name!r} needs otlp_endpoint: the backend's URL, e.g. http://127.0.0.1:6006"
        )
    if otlp.protocol == "grpc":
        raise ConfigurationError(
            f"bridge={name!r} sends OTLP over HTTP: give the backend's HTTP URL and "
            "otlp_protocol='http/protobuf' (or pass a bridge object in exporters=)"
        )
    return kind(
        rest_base_url(otlp.endpoint),
        headers=otlp.headers,
        otlp_endpoint=otlp.endpoint,
        timeout_s=otlp.timeout_s,
        compression=otlp.compression,
    )


__all__ = [
    "BRIDGES",
    "BridgeSpanExporter",
    "MLflowBridge",
    "PhoenixBridge",
    "bridge_for_endpoint",
    "rest_base_url",
]
