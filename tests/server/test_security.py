"""Loopback only by default, the token, cross-site requests, CSRF, headers, inert content."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from otelfeedback.cli import main
from otelfeedback.server import create_app
from otelfeedback.server.security import is_loopback
from tests.server.conftest import Seeded
from tests.server.live import LiveServer, get, request, send_json

TOKEN = "s3cret-token"


@pytest.fixture
def store_location(tmp_path: Path) -> Path:
    """These tests look at the store's files: a file store (the shared tests cover both)."""
    return tmp_path / "store"


@pytest.fixture
def token_server(seeded: Seeded) -> Iterator[LiveServer]:
    live = LiveServer(create_app(seeded.store, token=TOKEN))
    yield live
    live.close()


def test_requests_for_other_host_names_are_refused(server: LiveServer) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1
    reply = get(server.url + "/api/traces", {"Host": "evil.example:5050"})
    assert reply.status == 421 and "loopback" in reply.text
    assert get(server.url + "/api/traces", {"Host": f"localhost:{server.port}"}).status == 200


#: Names an attacker's DNS can point at 127.0.0.1 (or that are not a loopback address as
#: written): the browser sends them as the Host of a rebinding page's requests.
REBINDING_HOSTS = [
    "127.attacker.test",
    "127.attacker.test:5050",
    "127.0.0.1.nip.io",
    "127.0.0.1.nip.io:5050",
    "localhost.attacker.test",
    "localhost.attacker.test:5050",
    "localhost.",
    "localhostx",
    "127.1",
    "127.0.0.01",
    "127.0.0.256",
    "0x7f.0.0.1",
    "2130706433",
    "[::1].attacker.test",
    "[::1]x",
    "[::ffff:7f00:1]",
    "attacker.test:127.0.0.1",
    "localhost:abc",
    "localhost@attacker.test",
    "127.0.0.1 attacker.test",
]
LOOPBACK_HOSTS = [
    "localhost",
    "LocalHost:5050",
    "localhost:",
    "127.0.0.1",
    "127.0.0.1:5050",
    "127.254.3.1:80",
    "[::1]",
    "[::1]:5050",
    "[0:0:0:0:0:0:0:1]:5050",
]


def _otlp_body() -> bytes:
    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "poison",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
    }
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()


def _store_bytes(store: Path) -> int:
    return sum(f.stat().st_size for f in (store / "traces").glob("*"))


@pytest.mark.parametrize("host", REBINDING_HOSTS)
def test_rebinding_hosts_can_neither_read_nor_write(
    server: LiveServer, seeded: Seeded, host: str
) -> None:
    before = _store_bytes(seeded.store)
    headers = {"Host": host}
    reads = [
        get(server.url + "/api/traces", headers),
        get(server.url + f"/api/traces/{seeded.trace_id}", headers),
        get(server.url + "/traces", headers),
    ]
    assessment = send_json(
        "POST", server.url + f"/api/traces/{seeded.trace_id}/assessments", {"value": 1}, headers
    )
    otlp = request(
        "POST",
        server.url + "/v1/traces",
        _otlp_body(),
        {**headers, "Content-Type": "application/json"},
    )
    for reply in [*reads, assessment, otlp]:
        assert reply.status == 421, (host, reply.status, reply.body[:200])
        assert reply.headers["x-frame-options"] == "DENY"
        assert seeded.trace_id not in reply.text
    assert _store_bytes(seeded.store) == before


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_loopback_hosts_are_answered(server: LiveServer, host: str) -> None:
    assert get(server.url + "/api/traces", {"Host": host}).status == 200


@pytest.mark.parametrize(
    ("name", "loopback"),
    [
        *((h, True) for h in ("localhost", "127.0.0.1", "127.9.9.9", "::1", "[::1]")),
        *(
            (h, False)
            for h in (
                "127.attacker.test",
                "127.0.0.1.nip.io",
                "10.0.0.1",
                "0.0.0.0",
                "::",
                "localhost.attacker.test",
                "",
                "127.0.0.1:80",
            )
        ),
    ],
)
def test_is_loopback_takes_exact_addresses_only(name: str, loopback: bool) -> None:
    # also what decides whether `otelfeedback server --host NAME` needs a token
    assert is_loopback(name) is loopback


def test_a_token_server_answers_its_public_names_and_loopback_only(seeded: Seeded) -> None:
    live = LiveServer(
        create_app(seeded.store, token=TOKEN, public_hosts=["Traces.Example.com", "10.1.2.3"])
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        for host in (
            "traces.example.com",
            "TRACES.example.com:443",
            "10.1.2.3:5050",
            f"127.0.0.1:{live.port}",
            "localhost",
        ):
            assert get(live.url + "/api/traces", {**auth, "Host": host}).status == 200, host
        for host in (
            "127.attacker.test",
            "traces.example.com.attacker.test",
            "example.com",
            "10.1.2.4",
        ):
            reply = get(live.url + "/api/traces", {**auth, "Host": host})
            assert reply.status == 421, host
            assert "--public-host" in reply.text
    finally:
        live.close()


def test_public_names_need_a_token_and_must_be_names(tmp_path: Path) -> None:
    from otelfeedback.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="needs a token"):
        create_app(tmp_path, public_hosts=["traces.example.com"])
    for bad in ("http://traces.example.com", "a b", "", "x:port", "user@host"):
        with pytest.raises(ConfigurationError, match="not a host name"):
            create_app(tmp_path, token=TOKEN, public_hosts=[bad])


def test_binding_elsewhere_without_a_token_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "needs a token" in capsys.readouterr().err


def test_the_token_is_required_everywhere(token_server: LiveServer, seeded: Seeded) -> None:
    url = token_server.url
    assert get(url + "/api/traces").status == 401
    assert get(url + "/traces").status == 401
    assert (
        request("POST", url + "/v1/traces", b"", {"Content-Type": "application/json"}).status == 401
    )
    assert get(url + "/api/traces", {"Authorization": "Bearer wrong"}).status == 401
    assert get(url + "/api/traces", {"Authorization": f"Bearer {TOKEN}"}).status == 200
    # other host names are fine once a token guards the server
    assert (
        get(url + "/api/traces", {"Authorization": f"Bearer {TOKEN}", "Host": "box:1"}).status
        == 200
    )


def test_the_ui_logs_in_once_with_the_token_in_the_url(token_server: LiveServer) -> None:
    assert get(token_server.url + "/traces?token=wrong").status == 401
    login = get(token_server.url + "/traces?token=" + TOKEN)
    assert login.status == 303 and login.headers["location"] == "/traces"
    cookie = login.headers["set-cookie"].split(";")[0]
    assert "HttpOnly" in login.headers["set-cookie"]
    assert get(token_server.url + "/traces", {"Cookie": cookie}).status == 200


def test_cross_site_writes_are_refused(server: LiveServer, seeded: Seeded) -> None:
    url = server.url + f"/api/traces/{seeded.trace_id}/assessments"
    evil = send_json("POST", url, {"value": 1}, {"Origin": "http://evil.example"})
    assert evil.status == 403
    fetch = send_json("POST", url, {"value": 1}, {"Sec-Fetch-Site": "cross-site"})
    assert fetch.status == 403
    same = send_json("POST", url, {"value": 1}, {"Origin": server.url})
    assert same.status == 201


def test_forms_need_the_csrf_token(server: LiveServer, seeded: Seeded) -> None:
    page = get(server.url + f"/traces/{seeded.trace_id}")
    cookie = page.headers["set-cookie"].split(";")[0]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    form = "kind=feedback&name=quality&value_type=number&value=3&reviewer=dev"
    url = server.url + f"/traces/{seeded.trace_id}/assessments"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    assert request("POST", url, form.encode(), headers).status == 403
    forged = form + "&csrf_token=guess"
    assert request("POST", url, forged.encode(), headers).status == 403
    ok = request("POST", url, (form + f"&csrf_token={csrf.group(1)}").encode(), headers)
    assert ok.status == 303


def test_pages_carry_a_strict_content_security_policy(server: LiveServer) -> None:
    headers = get(server.url + "/traces").headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_untrusted_trace_content_is_escaped(server: LiveServer, seeded: Seeded) -> None:
    for path in ("/traces", f"/traces/{seeded.script_trace_id}"):
        html = get(server.url + path).text
        assert "<script>window.__pwned" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;window.__pwned" in html
    # the only scripts on the page are our own static file
    html = get(server.url + f"/traces/{seeded.script_trace_id}").text
    assert re.findall(r"<script[^>]*>", html) == [
        re.search(r'<script src="/static/[^"]+" defer>', html).group(0)
    ]


def test_a_url_store_is_refused(tmp_path: Path) -> None:
    from otelfeedback.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="a file store directory or a PostgreSQL"):
        create_app("http://127.0.0.1:5050")
    with pytest.raises(ConfigurationError, match=r"'db:5432'"):  # no password in messages
        create_app("mysql://user:secret@db:5432")
    with pytest.raises(ConfigurationError, match="token"):
        create_app(tmp_path, token=" ")


def test_an_unexpected_error_is_a_500_with_the_security_headers(
    seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    # an app that embeds the server and adds a route of its own, which fails
    from starlette.requests import Request
    from starlette.responses import Response

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app = create_app(seeded.store)
    app.add_route("/api/broken", broken)
    app.add_route("/broken", broken)
    live = LiveServer(app)
    try:
        for path in ("/api/broken", "/broken"):
            reply = get(live.url + path)
            assert reply.status == 500
            assert "content-security-policy" in reply.headers
            assert reply.headers["x-content-type-options"] == "nosniff"
            assert "a bug" not in reply.text  # no internals to the client; the log has them
        # the server keeps answering
        assert get(live.url + "/api/traces").status == 200
    finally:
        live.close()


def test_a_token_passed_in_is_never_printed(seeded: Seeded, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    def startup_output(*args: str, env: dict[str, str] | None = None) -> str:
        command = [
            sys.executable,
            "-c",
            "import sys; from otelfeedback.cli import main; sys.exit(main(sys.argv[1:]))",
            "server",
            "--store",
            str(seeded.store),
            "--port",
            "0",
            *args,
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        lines = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith("send traces:"):
                    break
        finally:
            process.terminate()
            process.wait(10)
            if process.stdout is not None:
                process.stdout.close()
        return "".join(lines)

    secret = "my-own-Secret-42"
    for output in (
        startup_output("--token", secret),
        startup_output(env={"OTELFEEDBACK_SERVER_TOKEN": secret}),
    ):
        assert "send traces:" in output
        assert secret not in output
        assert "?token=<your token>" in output
    generated = startup_output("--token", "generate")
    found = re.search(r"\?token=(\S+)", generated)
    assert found is not None and found.group(1) != "<your"  # shown once: nobody else knows it
