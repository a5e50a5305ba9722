"""HttpCheck against a stdlib HTTP/1.1 server started in the test, on 127.0.0.1."""

from __future__ import annotations

import base64
import http.server
import json
import logging
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.http import HttpCheck
from tests.services._probe_asserts import CANARY, assert_no_canary, run_once, timed_failure

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is visible
    # Buffer the headers and body into one send: written apart, they meet the
    # client's delayed ACK and every request takes 40 ms.
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        path = self.path
        if path == "/ok":
            self._send(200, "text/plain", b"all good, version 1.4.2")
        elif path == "/down":
            self._send(503, "text/plain", b"down")
        elif path == "/redirect":
            self._send(302, "text/plain", b"", [("Location", "/ok")])
        elif path.startswith("/ietf/"):
            word = path.rsplit("/", 1)[1]
            code = 503 if word == "fail" else 200
            doc = {"status": word, "output": f"the target says {word}"}
            self._send(code, "application/health+json; charset=utf-8", json.dumps(doc).encode())
        elif path == "/ietf-large-output":
            # issue 17.2: a 60 kB reason once froze the service for 5-6 s (quadratic scrubbing).
            doc = {"status": "fail", "output": "upstream said: " + "A" * 60_000}
            self._send(503, "application/health+json", json.dumps(doc).encode())
        elif path == "/ietf-huge":
            doc = {"status": "pass", "output": "x" * 200_000}
            self._send(200, "application/health+json", json.dumps(doc).encode())
        elif path == "/late-match":
            self._send(200, "text/plain", b"." * 100_000 + b"version 1.4.2")
        elif path == "/ietf-garbage":
            self._send(200, "application/health+json", b"not json")
        elif path == "/private":
            token = base64.b64encode(f"admin:{CANARY}".encode()).decode()
            ok = self.headers.get("Authorization") == f"Basic {token}"
            self._send(200 if ok else 401, "text/plain", b"secret area" if ok else b"who?")
        else:
            self._send(404, "text/plain", b"no such page")

    def _send(
        self, code: int, ctype: str, body: bytes, extra: list[tuple[str, str]] | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra or []:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output quiet


class _CountingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    accepted = 0

    def get_request(self) -> tuple[socket.socket, Any]:
        conn = super().get_request()
        self.accepted += 1  # one per TCP connection, however many requests it carries
        return conn


@pytest.fixture
def server() -> Iterator[_CountingServer]:
    srv = _CountingServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def url(server: _CountingServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


async def one(check: HttpCheck) -> Any:
    health = Health()
    health.add(check)
    result, _ = await run_once(health, check.name)
    await health.astop()
    return result


@pytest.mark.asyncio
async def test_passes_on_an_expected_status(server: _CountingServer) -> None:
    result = await one(HttpCheck(url(server, "/ok")))
    assert result.status is Status.PASS, result.output
    assert result.details["http_status"] == 200
    assert result.component_type == "component"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "options", "expected"),
    [
        ("/down", {}, Status.FAIL),
        ("/down", {"expected_status": 503}, Status.PASS),
        ("/redirect", {}, Status.FAIL),  # redirects are not followed
        ("/redirect", {"expected_status": [301, 302]}, Status.PASS),
        ("/ok", {"body_match": "all good"}, Status.PASS),
        ("/ok", {"body_match": "all bad"}, Status.FAIL),
        ("/ok", {"body_match": re.compile(r"version \d+\.\d+")}, Status.PASS),
        ("/ok", {"body_match": re.compile(r"^down$")}, Status.FAIL),
        ("/missing", {}, Status.FAIL),
    ],
)
async def test_status_and_body_rules(
    server: _CountingServer, path: str, options: dict[str, Any], expected: Status
) -> None:
    result = await one(HttpCheck(url(server, path), **options))
    assert result.status is expected, result.output


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("word", "expected"),
    [("pass", Status.PASS), ("warn", Status.WARN), ("fail", Status.FAIL)],
)
async def test_health_json_verdict_is_honoured(
    server: _CountingServer, word: str, expected: Status
) -> None:
    result = await one(HttpCheck(url(server, f"/ietf/{word}")))
    assert result.status is expected, result.output
    assert result.details["target_status"] == word
    if word != "pass":
        assert f"the target says {word}" in result.output


@pytest.mark.asyncio
async def test_health_json_without_a_status_fails(server: _CountingServer) -> None:
    result = await one(HttpCheck(url(server, "/ietf-garbage")))
    assert result.status is Status.FAIL
    assert "no valid status" in result.output


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(HttpCheck(f"http://127.0.0.1:{port}/health", timeout=1.0))
    assert result.output


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["served", "closed"])
async def test_canary_password_is_sent_as_basic_auth_and_never_leaks(
    where: str, server: _CountingServer, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = server.server_address[1] if where == "served" else closed_port
    check = HttpCheck(f"http://admin:{CANARY}@127.0.0.1:{port}/private", timeout=1.0)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "http")
    await health.astop()
    # The server accepts the password only if it arrived as Basic auth.
    assert result.status is (Status.PASS if where == "served" else Status.FAIL), result.output
    if where == "served":
        assert any(r.name.startswith("httpx") for r in caplog.records)  # httpx did log
    assert_no_canary(result, report, caplog, check)


@pytest.mark.asyncio
async def test_200_runs_use_one_connection(server: _CountingServer) -> None:
    health = Health()
    health.add(HttpCheck(url(server, "/ok")))
    for _ in range(200):
        result, _ = await run_once(health, "http")
        assert result.status is Status.PASS, result.output
    assert server.accepted == 1
    await health.astop()


@pytest.mark.asyncio
async def test_users_client_is_used_and_left_open(server: _CountingServer) -> None:
    async with httpx.AsyncClient() as client:
        health = Health()
        health.add(HttpCheck(url(server, "/ok"), client=client, name="svc"))
        result, _ = await run_once(health, "svc")
        await health.astop()
        assert result.status is Status.PASS, result.output
        assert not client.is_closed


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError) as info:
        HttpCheck(f"ftp://u:{CANARY}@example.com/")
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigurationError, match="expected_status"):
        HttpCheck("http://127.0.0.1/", expected_status=[])
    with pytest.raises(ConfigurationError, match="timeout"):
        HttpCheck("http://127.0.0.1/", timeout=0)


def test_credential_headers_are_declared_secret() -> None:
    check = HttpCheck(
        "http://127.0.0.1/health",
        headers={"Authorization": f"Bearer {CANARY}", "Accept": "application/json"},
    )
    assert f"Bearer {CANARY}" in check.secrets
    assert "application/json" not in check.secrets


@pytest.mark.asyncio
async def test_a_large_reason_neither_stalls_the_loop_nor_is_kept_whole(
    server: _CountingServer,
) -> None:
    import asyncio
    import time

    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    result = await one(HttpCheck(url(server, "/ietf-large-output"), timeout=30))
    stop.set()
    await tick
    assert result.status is Status.FAIL
    assert result.output.startswith("the target reports fail (HTTP 503): upstream said: AAA")
    assert len(result.output) <= 500
    # Generous for a loaded machine: the event loop was held 4.9-6.1 s before.
    assert max(gaps) < 0.5, max(gaps)


@pytest.mark.asyncio
async def test_only_the_first_64_kib_of_a_body_are_read(server: _CountingServer) -> None:
    huge = await one(HttpCheck(url(server, "/ietf-huge")))
    assert huge.status is Status.FAIL
    assert huge.output == "HTTP 200: the health+json body is larger than 64 KiB"
    late = await one(HttpCheck(url(server, "/late-match"), body_match="version 1.4.2"))
    assert late.status is Status.FAIL
    assert late.output == "HTTP 200, but the body does not match (in its first 64 KiB)"


@pytest.fixture
def degraded_healthprobe() -> Iterator[str]:
    """A real healthprobe service (WSGI app, stdlib server) that is degraded, warn_status=429."""
    import wsgiref.simple_server

    from healthprobe.integrations.wsgi import HealthApp

    class _Quiet(wsgiref.simple_server.WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    upstream = Health()
    upstream.add(lambda: True, name="db")
    upstream.add(lambda: (False, "smtp down"), name="mail", critical=False)
    app = HealthApp(upstream, warn_status=429)
    srv = wsgiref.simple_server.make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)
        upstream.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("accept", [None, "application/health+json"])
async def test_a_degraded_dependency_answering_429_is_read_as_warn(
    degraded_healthprobe: str, accept: str | None
) -> None:
    # Issue 13 point 3: one degraded service must not fail its dependants.
    async with httpx.AsyncClient() as client:
        sent = {"accept": accept} if accept else {}
        answer = await client.get(f"{degraded_healthprobe}/readyz", headers=sent)
    assert answer.status_code == (200 if accept else 429)  # health+json follows the draft
    result = await one(HttpCheck(f"{degraded_healthprobe}/readyz", headers=sent))
    assert result.status is Status.WARN, result.output


@pytest.mark.asyncio
async def test_a_429_without_a_warn_body_still_fails(server: _CountingServer) -> None:
    result = await one(HttpCheck(url(server, "/missing"), expected_status=200))
    assert result.status is Status.FAIL
    assert HttpCheck(url(server, "/x")).judge(429, "text/plain", b"slow down").status is Status.FAIL
    judged = HttpCheck(url(server, "/x")).judge(429, "application/json", b'{"status": "fail"}')
    assert judged.status is Status.FAIL
