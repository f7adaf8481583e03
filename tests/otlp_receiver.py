"""A real OTLP receiver on loopback for tests: OTLP/HTTP (protobuf and JSON, gzip; any path,
recorded with each span) and gRPC, decoding with opentelemetry-proto, keeping every span it
receives."""

from __future__ import annotations

import gzip
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2


@dataclass
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    links: list[tuple[str, str, dict[str, Any]]]
    status_code: int
    resource: dict[str, Any]
    headers: dict[str, str]
    path: str = "/v1/traces"


def any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def attrs(key_values: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in key_values}


class Receiver:
    """Collects spans from decoded ``ExportTraceServiceRequest`` messages."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self._lock = threading.Lock()
        self.fail_with: int | None = None
        #: fail only this many requests (with ``fail_with`` and ``Retry-After: 0``), then accept
        self.fail_times: int | None = None
        #: seconds to wait before answering (for timeout tests)
        self.delay = 0.0
        self.rejected = 0

    def add(
        self,
        request: trace_service_pb2.ExportTraceServiceRequest,
        headers: dict[str, str],
        path: str = "/v1/traces",
    ) -> None:
        received = []
        for rs in request.resource_spans:
            resource = attrs(rs.resource.attributes)
            for ss in rs.scope_spans:
                for s in ss.spans:
                    received.append(
                        ReceivedSpan(
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_span_id=s.parent_span_id.hex(),
                            name=s.name,
                            attributes=attrs(s.attributes),
                            events=[(e.name, attrs(e.attributes)) for e in s.events],
                            links=[
                                (lk.trace_id.hex(), lk.span_id.hex(), attrs(lk.attributes))
                                for lk in s.links
                            ],
                            status_code=s.status.code,
                            resource=resource,
                            headers=headers,
                            path=path,
                        )
                    )
        with self._lock:
            self.requests += 1
            self.spans.extend(received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.spans) >= count:
                    return list(self.spans)
            time.sleep(0.02)
        with self._lock:
            return list(self.spans)


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        """Any path is accepted and recorded (tests check where an exporter posts)."""
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            # OTLP/JSON ids are hex, not protobuf-JSON base64: the server's decoder knows.
            from otelfeedback.server.otlp_codec import decode_json

            request = decode_json(body)
        else:
            request = trace_service_pb2.ExportTraceServiceRequest()
            request.ParseFromString(body)
        if self.receiver.delay:
            time.sleep(self.receiver.delay)
        receiver = self.receiver
        if receiver.fail_with and (receiver.fail_times is None or receiver.fail_times > 0):
            if receiver.fail_times is not None:
                receiver.fail_times -= 1
                receiver.rejected += 1
                self.send_response(receiver.fail_with)
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_error(receiver.fail_with)
            return
        self.receiver.add(request, {k.lower(): v for k, v in self.headers.items()}, self.path)
        payload = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class HttpReceiver(Receiver):
    def __init__(self) -> None:
        super().__init__()
        handler = type("Handler", (_Handler,), {"receiver": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:
        self.receiver.add(request, dict(context.invocation_metadata()))
        return trace_service_pb2.ExportTraceServiceResponse()


class GrpcReceiver(Receiver):
    def __init__(self) -> None:
        import grpc

        super().__init__()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(self), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self.server.stop(0)


__all__ = ["GrpcReceiver", "HttpReceiver", "ReceivedSpan", "trace_pb2"]
