"""OTLP over HTTP, both encodings: ``http/protobuf`` and ``http/json``.

One sender for both (the OpenTelemetry Python SDK ships no JSON exporter, and its protobuf
one reads and logs header variables by itself): the body is the OTLP protobuf message
(encoded by the OTLP exporter's own encoder) or our OTLP/JSON encoding (the file store's: ids
as hex, as the OTLP/JSON specification requires). It retries 429/502/503/504 answers and
connection failures with exponential backoff until its timeout, honours ``Retry-After``,
gzips when asked, uses the TLS files named by ``OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE`` /
``CLIENT_CERTIFICATE`` / ``CLIENT_KEY``, and never raises.
"""

from __future__ import annotations

import gzip
import logging
import os
import ssl
import threading
import time
from collections.abc import Mapping, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otelfeedback._internal.http import RETRYABLE_STATUSES, request
from otelfeedback._internal.otlp_json.sdk_lines import sdk_spans_line

logger = logging.getLogger("otelfeedback")


def _tls_file(name: str) -> str | None:
    return os.environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}") or os.environ.get(
        f"OTEL_EXPORTER_OTLP_{name}"
    )


def _ssl_context() -> ssl.SSLContext | None:
    ca, cert, key = (
        _tls_file("CERTIFICATE"),
        _tls_file("CLIENT_CERTIFICATE"),
        _tls_file("CLIENT_KEY"),
    )
    if not (ca or cert):
        return None
    context = ssl.create_default_context(cafile=ca)
    if cert:
        context.load_cert_chain(cert, key)
    return context


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _protobuf_body(spans: Sequence[ReadableSpan]) -> bytes:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return bytes(encode_spans(spans).SerializeToString())


def _json_body(spans: Sequence[ReadableSpan]) -> bytes:
    return sdk_spans_line(spans)


_ENCODINGS = {
    "protobuf": ("application/x-protobuf", _protobuf_body),
    "json": ("application/json", _json_body),
}


class OTLPHttpSpanExporter(SpanExporter):
    """Send spans to an OTLP/HTTP traces URL, as protobuf (default) or JSON.

    >>> OTLPHttpSpanExporter("http://127.0.0.1:4318/v1/traces")  # doctest: +ELLIPSIS
    <...OTLPHttpSpanExporter object at ...>

    Args:
        endpoint: the full traces URL.
        headers: sent with every request.
        timeout: seconds one export may take, retries included.
        compression: ``"gzip"`` or None.
        encoding: ``"protobuf"`` or ``"json"``.
    """

    def __init__(
        self,
        endpoint: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        compression: str | None = None,
        encoding: str = "protobuf",
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.compression = compression
        content_type, self._encode = _ENCODINGS[encoding]
        self._headers = {**dict(headers or {}), "content-type": content_type}
        if compression == "gzip":
            self._headers["content-encoding"] = "gzip"
        self._context: ssl.SSLContext | None = None
        self._context_loaded = False
        self._stop = threading.Event()
        self._failing = False

    def _tls(self) -> ssl.SSLContext | None:
        if not self._context_loaded and self.endpoint.startswith("https:"):
            self._context = _ssl_context()
            self._context_loaded = True
        return self._context

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._stop.is_set():
            return SpanExportResult.FAILURE
        try:
            data = self._encode(spans)
            if self.compression == "gzip":
                data = gzip.compress(data)
            context = self._tls()
        except Exception as exc:  # an unencodable batch or unreadable TLS files
            return self._failed(f"cannot encode or send: {type(exc).__name__}: {exc}")
        return self._send(data, context)

    def _send(self, data: bytes, context: ssl.SSLContext | None) -> SpanExportResult:
        deadline = time.monotonic() + self.timeout
        delay = 1.0
        while True:
            remaining = deadline - time.monotonic()
            wait: float
            try:
                response = request(
                    "POST", self.endpoint, data, self._headers, max(0.001, remaining), context
                )
            except OSError as exc:
                problem, wait = f"{type(exc).__name__}: {exc}", delay
            else:
                if response.ok:
                    self._failing = False
                    return SpanExportResult.SUCCESS
                problem = f"HTTP {response.status} {response.text(200)!r}"
                if response.status not in RETRYABLE_STATUSES:
                    return self._failed(problem)
                asked = _retry_after(response.headers.get("retry-after"))
                wait = delay if asked is None else asked
            if time.monotonic() + wait >= deadline or self._stop.wait(wait):
                return self._failed(problem)
            delay = min(delay * 2, 32.0)

    def _failed(self, problem: str) -> SpanExportResult:
        """Warn at the first failure after a success (then debug), and fail the batch."""
        level = logging.DEBUG if self._failing else logging.WARNING
        self._failing = True
        logger.log(level, "otelfeedback: OTLP export to %s failed: %s", self.endpoint, problem)
        return SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        self._stop.set()
