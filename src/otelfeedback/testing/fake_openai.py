"""``FakeOpenAIServer``: a real HTTP server on loopback that speaks enough of the OpenAI API
for tests and offline examples.

::

    from openai import OpenAI
    from otelfeedback.testing import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        client = OpenAI(base_url=server.base_url, api_key="fake")
        server.reply("Paris.")                      # the next request gets this answer
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])

It serves chat completions (plain, streamed as SSE with usage, tool calls, structured
outputs), the Responses API, legacy completions and embeddings, under any path prefix
(``/v1/...``, Azure's ``/openai/deployments/<name>/...``). Scripted replies and failures are
used first-in first-out, one per request; with none queued, the reply echoes the request.
Only the standard library is used; ``openai`` need not be installed to run it.

It also **judges**: a request from an LLM judge (structured output with ``result`` and
``rationale``, as ``otelfeedback.scorers`` send) gets a verdict from the ``judge`` hook, else
from a deterministic default rule (``_fake_judge``), so evaluations run offline::

    with FakeOpenAIServer(judge=lambda req: Verdict("no", "too vague")) as server: ...
    server.verdict("yes", "It matches")            # or script the next judge answer
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from otelfeedback.testing import _fake_openai_bodies as bodies
from otelfeedback.testing._fake_judge import (
    JudgeRequest,
    Verdict,
    default_verdict,
    judge_schema,
    parse_request,
    verdict_content,
)
from otelfeedback.testing._fake_openai_payloads import (
    CREATED,
    Ids,
    Reply,
    ToolCall,
    embeddings_body,
    error_body,
    resolve,
    sse,
)


@dataclass(frozen=True)
class Failure:
    """An error answer: an HTTP status with an OpenAI-style error body.

    Args:
        status: the HTTP status (429, 500, ...).
        message: the error message in the body.
        retry_after: send a ``retry-after`` header (seconds).
        body: send these bytes as the body instead (e.g. malformed JSON).
        delay: seconds to wait before answering.
        content_type: the ``Content-Type`` header of the answer.
    """

    status: int = 500
    message: str | None = None
    retry_after: float | None = None
    body: bytes | None = None
    delay: float = 0.0
    content_type: str = "application/json"


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received: method, path, headers (names in lower case), the
    JSON body and its bytes as received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any = field(default=None)
    raw: bytes = b""


def _kind(method: str, path: str) -> str | None:
    if method == "GET":
        return "models" if path.rstrip("/").endswith("/models") else None
    for suffix, kind in (
        ("/chat/completions", "chat"),
        ("/completions", "completions"),
        ("/responses", "responses"),
        ("/embeddings", "embeddings"),
    ):
        if path.rstrip("/").endswith(suffix):
            return kind
    return None


class FakeOpenAIServer:
    """An OpenAI-compatible server on ``127.0.0.1`` with scripted, deterministic replies.

    Use it as a context manager, or call ``start()`` and ``stop()``. Point a client at
    ``base_url``; any API key works.

    Args:
        port: the port to listen on (default: a free one).
        default: builds the answer when nothing is queued (default: an echo ``Reply()``).
        judge: answers judge requests when nothing is queued: returns a ``Verdict``, or None
            for the default rule (see ``otelfeedback.testing._fake_judge``).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        default: Callable[[RecordedRequest], Reply | Failure] | None = None,
        judge: Callable[[JudgeRequest], Verdict | None] | None = None,
    ) -> None:
        self._port = port
        self._default = default
        #: Answers judge requests when nothing is queued (settable at any time).
        self.judge = judge
        self._queue: deque[Reply | Failure] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = Ids()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        """Start serving in a background thread (no-op when already started)."""
        if self._httpd is None:
            self._stopping.clear()
            self._httpd = _Server(("127.0.0.1", self._port), self)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="otelfeedback-fake-openai",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close open connections (safe to call twice)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on (after ``start()``)."""
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not started; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The URL to give ``OpenAI(base_url=...)``: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting -------------------------------------------------------------------
    def reply(
        self,
        content: str | None = None,
        *,
        tool_calls: Sequence[ToolCall] = (),
        **options: Any,
    ) -> None:
        """Queue the answer to the next request (see ``Reply`` for the options).

        ``server.reply("Paris.")``, ``server.reply(tool_calls=[ToolCall("f", {"x": 1})])``,
        ``server.reply("slow", delay=2.0)``.
        """
        self.push(Reply(content, tool_calls, **options))

    def fail(
        self,
        status: int = 500,
        *,
        message: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """Queue an error answer: ``server.fail(429, retry_after=0.01)``, ``server.fail(500)``."""
        self.push(Failure(status, message, retry_after, None, delay))

    def verdict(self, value: Any, rationale: str = "", **options: Any) -> None:
        """Queue a judge's answer: ``server.verdict("no", "It misses the Model Registry")``
        (JSON ``{"rationale", "result"}``; ``options`` as for ``Reply``)."""
        answer = json.dumps({"rationale": rationale, "result": value}, ensure_ascii=False)
        self.push(Reply(answer, **options))

    def reply_malformed(self) -> None:
        """Queue a 200 answer whose JSON body is cut off."""
        self.push(Failure(200, body=b'{"id": "chatcmpl-broken", "choices": [{"ind'))

    def reply_body(
        self, body: bytes, *, content_type: str = "application/json", status: int = 200
    ) -> None:
        """Queue an answer of exactly these bytes: ``server.reply_body(b'{"id": ...}')``
        (any status and content type; the client parses it as it would a real one)."""
        self.push(Failure(status, body=body, content_type=content_type))

    def push(self, *items: Reply | Failure) -> None:
        """Queue replies and failures, used in order, one per request."""
        with self._lock:
            self._queue.extend(items)

    def reset(self) -> None:
        """Forget queued answers and recorded requests."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """How many queued answers are still unused."""
        with self._lock:
            return len(self._queue)

    # --- used by the handler ---------------------------------------------------------
    def _take(self, request: RecordedRequest) -> Reply | Failure:
        with self._lock:
            self._requests.append(request)
            if self._queue:
                return self._queue.popleft()
        schema = judge_schema(request.body) if isinstance(request.body, dict) else None
        if schema is not None:
            judged = parse_request(request.body, schema)
            verdict = self.judge(judged) if self.judge is not None else None
            return Reply(verdict_content(verdict or default_verdict(judged), schema))
        return self._default(request) if self._default is not None else Reply()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], fake: FakeOpenAIServer) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is not news
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Small writes (headers, then each SSE chunk) must not wait for delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self._send_json(400, error_body(400, "the request body is not JSON"))
            return
        kind = _kind(self.command, path)
        if kind is None:
            self._send_json(404, error_body(404, f"no route for {self.command} {path}"))
            return
        if kind == "models":
            model = {"id": "fake-model", "object": "model", "created": CREATED, "owned_by": "fake"}
            self._send_json(200, {"object": "list", "data": [model]})
            return
        fake = self.server.fake
        item = fake._take(
            RecordedRequest(
                self.command, path, {k.lower(): v for k, v in self.headers.items()}, body, raw
            )
        )
        fake._wait(item.delay)
        if isinstance(item, Failure):
            self._send_failure(item)
            return
        stream = bool(body.get("stream")) and kind != "embeddings"
        with fake._lock:  # ids are shared; build the whole answer under the lock
            resolved = resolve(item, kind, body, fake._ids)
            if kind == "embeddings":
                payload: Any = embeddings_body(body, item.model)
            elif not stream:
                payload = {
                    "chat": bodies.chat_body,
                    "responses": bodies.responses_body,
                    "completions": bodies.completion_whole,
                }[kind](resolved, body, fake._ids)
            else:
                payload = {
                    "chat": bodies.chat_chunks,
                    "responses": bodies.responses_events,
                    "completions": bodies.completion_chunks,
                }[kind](resolved, body, fake._ids)
        if not stream:
            self._send_json(200, payload)
            return
        self._send_stream(payload, item, done=kind != "responses")

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] = {}) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send_bytes(status, data, headers)

    def _send_bytes(
        self,
        status: int,
        data: bytes,
        headers: Mapping[str, str] = {},
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_fake")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_failure(self, failure: Failure) -> None:
        headers = {}
        if failure.retry_after is not None:
            headers["retry-after"] = f"{failure.retry_after:g}"
            headers["retry-after-ms"] = f"{failure.retry_after * 1000:g}"
        if failure.body is not None:
            self._send_bytes(failure.status, failure.body, headers, failure.content_type)
            return
        message = failure.message or f"fake error {failure.status}"
        self._send_json(failure.status, error_body(failure.status, message), headers)

    def _send_stream(self, events: list[dict[str, Any]], reply: Reply, done: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", "req_fake")
        self.end_headers()
        fail_at = reply.error_after_chunks
        if fail_at is not None:
            error = error_body(500, "fake error in the middle of the stream")
            events = [*events[:fail_at], error]
            done = False
        for n, frame in enumerate(sse(iter(events), done)):
            if n and reply.chunk_delay:
                self.server.fake._wait(reply.chunk_delay)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        self.wfile.write(b"0\r\n\r\n")


__all__ = [
    "FakeOpenAIServer",
    "Failure",
    "JudgeRequest",
    "RecordedRequest",
    "Reply",
    "ToolCall",
    "Verdict",
]
