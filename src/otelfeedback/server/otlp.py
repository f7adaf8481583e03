"""``POST /v1/traces``: the OTLP/HTTP trace receiver (protobuf or JSON, optionally gzip).

Behaviour follows the OTLP/HTTP specification: ``application/x-protobuf`` or
``application/json`` bodies (anything else: 415), ``Content-Encoding: gzip`` or none (other
encodings: 415; a gzip body may hold several members, as RFC 1952 allows, and all are read),
a size limit on the body before and after decompression (413), malformed
data rejected whole with 400 and a ``google.rpc.Status`` saying why (in the request's
encoding), and on success an empty ``ExportTraceServiceResponse``. Accepted data is appended
to the store (one OTLP/JSON line per request) before the response is sent, so nothing
acknowledged is lost.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from otelfeedback.server import otlp_codec

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_INVALID_ARGUMENT = 3  # google.rpc.Code


@dataclass
class IngestStats:
    requests: int = 0
    spans: int = 0
    rejected: int = 0


class BodyTooLarge(Exception):
    pass


class OTLPReceiver:
    """The ``/v1/traces`` endpoint. ``append`` writes complete OTLP/JSON lines to the store."""

    def __init__(self, append: Callable[[bytes], None], max_body_bytes: int) -> None:
        self.append = append
        self.max_body_bytes = max_body_bytes
        self.stats = IngestStats()

    async def handle(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        as_json = content_type == JSON
        if content_type not in (PROTOBUF, JSON):
            return self._error(
                415,
                f"unsupported content type {content_type or '(none)'!r}: send {PROTOBUF} or {JSON}",
                as_json=True,
            )
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("gzip", "identity", ""):
            return self._error(
                415, f"unsupported content encoding {encoding!r}: send gzip or none", as_json
            )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return self._too_large(as_json)
        try:
            body = await self._read(request)
            # off the event loop: decompressing and decoding 32 MiB takes a while
            spans = await run_in_threadpool(self._ingest, body, as_json, encoding == "gzip")
        except BodyTooLarge:
            return self._too_large(as_json)
        except zlib.error as exc:
            return self._error(400, f"body is not valid gzip: {exc}", as_json)
        except otlp_codec.OTLPRequestError as exc:
            return self._error(400, str(exc), as_json)
        except RecursionError:
            return self._error(400, "body nested too deeply to decode", as_json)
        except UnicodeEncodeError as exc:
            # a lone surrogate escape in OTLP/JSON ("\ud800"): not Unicode text
            return self._error(400, f"body holds a string that is not Unicode text: {exc}", as_json)
        self.stats.requests += 1
        self.stats.spans += spans
        if as_json:
            return Response(b"{}", media_type=JSON)
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type=PROTOBUF)

    def _ingest(self, body: bytes, as_json: bool, gzipped: bool) -> int:
        if gzipped:
            body = self._gunzip(body)
        decode = otlp_codec.decode_json if as_json else otlp_codec.decode_protobuf
        message = decode(body)
        spans = otlp_codec.count_spans(message)
        if spans:
            self.append(otlp_codec.to_line(message))
        return spans

    async def _read(self, request: Request) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _gunzip(self, body: bytes) -> bytes:
        """Every member of a gzip body (RFC 1952: members concatenated), at most
        ``max_body_bytes`` in all; a member cut short or anything after the last one that is
        not another member is a ``zlib.error``."""
        out = bytearray()
        rest = body
        while True:
            decompressor = zlib.decompressobj(wbits=31)
            room = self.max_body_bytes - len(out)
            out += decompressor.decompress(rest, room + 1)
            if len(out) > self.max_body_bytes or decompressor.unconsumed_tail:
                raise BodyTooLarge
            if not decompressor.eof:
                raise zlib.error("truncated gzip stream")
            rest = decompressor.unused_data
            if not rest.strip(b"\x00"):  # the end, or zero padding (which gzip(1) allows)
                return bytes(out)

    def _too_large(self, as_json: bool) -> Response:
        return self._error(
            413, f"body larger than {self.max_body_bytes} bytes: send smaller batches", as_json
        )

    def _error(self, status: int, message: str, as_json: bool) -> Response:
        self.stats.rejected += 1
        if as_json:
            body = json.dumps({"code": _INVALID_ARGUMENT, "message": message}).encode()
            return Response(body, status_code=status, media_type=JSON)
        proto = Status(code=_INVALID_ARGUMENT, message=message).SerializeToString()
        return Response(proto, status_code=status, media_type=PROTOBUF)
