"""``healthprobe.serve_in_thread``: a real listener on loopback, driven by real clients."""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import healthprobe
from healthprobe import ConfigurationError, Health
from healthprobe.integrations._http1 import Limits
from healthprobe.integrations.asgi import HealthApp as AsgiHealthApp
from healthprobe.integrations.thread_server import ProbeServer

from ._apps import Switch, standard_health
from .test_wsgi import PARITY, TOKEN, _normalized

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def served() -> Iterator[tuple[Health, Switch, ProbeServer]]:
    health, _db, mail = standard_health()
    mail.result = (False, "smtp refused")
    server = healthprobe.serve_in_thread(health, port=0, token=TOKEN, drain=None)
    try:
        yield health, mail, server
    finally:
        server.close()


def _running(server: ProbeServer) -> bool:
    # A call, not the property: mypy would narrow the property across close().
    return server.running


def _started(health: Health) -> bool:
    return health.lifecycle.started


def _raw(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send ``data`` on one connection and read until the server closes it (or ``wait``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as conn:
        conn.sendall(data)
        chunks = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_same_answers_as_the_asgi_layer(served: tuple[Health, Switch, ProbeServer]) -> None:
    health, _mail, server = served
    asgi = AsgiHealthApp(health, token=TOKEN, drain=None)

    async def asgi_answers() -> list[tuple[Any, ...]]:
        out = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(asgi), base_url="http://probe.test"
        ) as client:
            for method, target, headers in PARITY:
                response = await client.request(method, target, headers=headers)
                out.append(
                    _normalized(response.status_code, dict(response.headers), response.content)
                )
        return out

    expected = asyncio.run(asgi_answers())
    with httpx.Client(base_url=server.url, timeout=10) as client:  # one keep-alive connection
        for (method, target, headers), want in zip(PARITY, expected, strict=True):
            got = client.request(method, target, headers=headers)
            assert _normalized(got.status_code, dict(got.headers), got.content) == want, target
        for path in ("/metrics", "/health/ui"):
            assert client.get(path).status_code == 200


def test_keep_alive_pipelining_and_head_on_one_connection(
    served: tuple[Health, Switch, ProbeServer],
) -> None:
    _, _, server = served
    out = _raw(
        server.port,
        b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /livez?format=text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    responses = out.split(b"HTTP/1.1 ")[1:]
    assert [r.split(b"\r\n", 1)[0] for r in responses] == [b"200 OK"] * 3
    head = responses[1]
    assert b"content-length: " in head
    assert head.endswith(b"\r\n\r\n")
    assert responses[2].endswith(b"\r\n\r\nok")
    assert b"connection: close" in responses[2]


def test_http_1_0_closes_unless_asked_to_keep_alive(
    served: tuple[Health, Switch, ProbeServer],
) -> None:
    _, _, server = served
    out = _raw(server.port, b"GET /livez HTTP/1.0\r\n\r\nGET /livez HTTP/1.0\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 OK") == 1
    assert b"connection: close" in out


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET /livez HTTP/1.1\n\n", b"400"),  # bare LF
        (b"GET livez HTTP/1.1\r\n\r\n", b"400"),  # not an absolute path
        (b"GET http://x/livez HTTP/1.1\r\n\r\n", b"400"),
        (b"G@T /livez HTTP/1.1\r\n\r\n", b"400"),
        (b"GET /livez HTTP/2.0\r\n\r\n", b"505"),
        (b"GET /livez HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"GET /livez HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", b"400"),
        (b"GET /livez HTTP/1.1\r\nBad Name: x\r\n\r\n", b"400"),
        (b"GET /livez HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET /livez HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", b"431"),
        (b"GET /livez HTTP/1.1\r\n" + b"X-A: b\r\n" * 100 + b"\r\n", b"431"),
    ],
)
def test_malformed_and_oversize_requests_get_a_4xx_and_the_connection_closes(
    served: tuple[Health, Switch, ProbeServer], request_bytes: bytes, status: bytes
) -> None:
    _, _, server = served
    out = _raw(server.port, request_bytes)
    assert out.startswith(b"HTTP/1.1 " + status + b" "), out[:200]
    assert b"connection: close" in out
    assert out.count(b"HTTP/1.1 ") == 1
    # The server is unharmed.
    assert httpx.get(server.url + "/livez", timeout=5).status_code == 200


def test_a_request_with_a_body_is_answered_and_the_connection_closed(
    served: tuple[Health, Switch, ProbeServer],
) -> None:
    _, _, server = served
    out = _raw(
        server.port,
        b"POST /readyz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /livez HTTP/1.1\r\n\r\n",
    )
    assert out.startswith(b"HTTP/1.1 405 ")
    assert out.count(b"HTTP/1.1 ") == 1


def test_a_slow_client_is_cut_off_and_others_are_served_meanwhile() -> None:
    health, _, _ = standard_health()
    limits = Limits(head_timeout=0.5, idle_timeout=0.5)
    with healthprobe.serve_in_thread(health, port=0, drain=None, limits=limits) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
            slow.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n")  # and never the end
            assert httpx.get(server.url + "/livez", timeout=5).status_code == 200
            assert slow.recv(1000).startswith(b"HTTP/1.1 408 ")
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle:
            assert idle.recv(1000) == b""  # closed after idle_timeout, without a word


def test_port_zero_picks_one_and_close_stops_listening() -> None:
    health, _, _ = standard_health()
    server = healthprobe.serve_in_thread(health, port=0, drain=None)
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert _running(server)
    assert httpx.get(server.url + "/livez", timeout=5).status_code == 200
    server.close()
    server.close()  # idempotent
    assert not _running(server)
    assert not any(t.name.startswith("healthprobe-server") for t in threading.enumerate())
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/livez", timeout=2)


def test_a_fixed_port_is_used_and_a_taken_port_is_a_clear_oserror() -> None:
    health, _, _ = standard_health()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with healthprobe.serve_in_thread(health, port=port, drain=None) as server:
        assert server.port == port
        with pytest.raises(OSError, match=rf"127\.0\.0\.1:{port}: Address already in use") as info:
            healthprobe.serve_in_thread(health, port=port, drain=None)
        assert info.value.errno == errno.EADDRINUSE
        assert httpx.get(server.url + "/livez", timeout=5).status_code == 200


def test_an_unknown_host_is_a_clear_oserror() -> None:
    health, _, _ = standard_health()
    with pytest.raises(OSError, match=r"healthprobe cannot listen on no-such-host\.invalid:0"):
        healthprobe.serve_in_thread(health, host="no-such-host.invalid", port=0, drain=None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": -1}, "port must be an integer from 0 to 65535"),
        ({"port": 70000}, "port must be an integer"),
        ({"port": True}, "port must be an integer"),
        ({"host": ""}, "host must be a non-empty string"),
        ({"drain": -1}, "drain must be None or a number"),
        ({"warn_status": 201}, "warn_status must be 200 or 429"),
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    health, _, _ = standard_health()
    with pytest.raises(ConfigurationError, match=message):
        healthprobe.serve_in_thread(health, **options)
    assert not any(t.name.startswith("healthprobe-server") for t in threading.enumerate())


def test_owned_lifecycle_polls_marks_started_and_stops_polling_at_close() -> None:
    health = Health()
    runs = 0
    closed = threading.Event()

    class Polled:
        name = "polled"

        def check(self) -> bool:
            nonlocal runs
            runs += 1
            return True

        def close(self) -> None:
            closed.set()

    health.add(Polled(), interval=0.05)
    assert not _started(health)
    with healthprobe.serve_in_thread(health, port=0, drain=None) as server:
        assert _started(health)
        deadline = time.monotonic() + 10
        while runs < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runs >= 2
        assert httpx.get(server.url + "/readyz", timeout=5).status_code == 200
    assert closed.is_set()  # astop closed the check's resources
    after = runs
    time.sleep(0.2)
    assert runs == after  # no more polling


def test_not_owning_the_lifecycle_leaves_the_health_alone() -> None:
    health, _, _ = standard_health()
    with healthprobe.serve_in_thread(health, port=0, lifecycle=False) as server:
        assert not health.lifecycle.started
        assert httpx.get(server.url + "/readyz", timeout=5).status_code == 503
        assert httpx.get(server.url + "/livez", timeout=5).status_code == 200
        health.lifecycle.mark_started()
        assert httpx.get(server.url + "/readyz", timeout=5).status_code == 200


def test_answers_while_another_event_loop_is_blocked() -> None:
    health, _, _ = standard_health()

    async def app_loop_blocked() -> None:
        time.sleep(2.0)  # noqa: ASYNC251 - the point: this loop answers nothing

    with healthprobe.serve_in_thread(health, port=0, drain=None) as server:
        blocker = threading.Thread(target=asyncio.run, args=(app_loop_blocked(),))
        blocker.start()
        try:
            started = time.monotonic()
            assert httpx.get(server.url + "/livez", timeout=5).status_code == 200
            assert time.monotonic() - started < 1.5
        finally:
            blocker.join()
