"""Loopback only by default, the token, cross-site requests, CSRF, headers, inert content."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from otelfeedback.cli import main
from otelfeedback.server import create_app
from tests.server.conftest import Seeded
from tests.server.live import LiveServer, get, request, send_json

TOKEN = "s3cret-token"


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

    with pytest.raises(ConfigurationError, match="not a URL"):
        create_app("http://127.0.0.1:5050")
    with pytest.raises(ConfigurationError, match="token"):
        create_app(tmp_path, token=" ")
