"""TcpCheck against loopback listeners: open, refusing, silent and saturated."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.checks.tcp import TcpCheck

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


async def run(check: TcpCheck, *, timeout: float | None = None) -> tuple[CheckResult, float]:
    """One run through the engine; returns the result and how long the probe took."""
    health = Health()
    health.add(check, timeout=timeout)
    started = time.monotonic()
    report = await health.arun(None)
    elapsed = time.monotonic() - started
    await health.astop()
    return report.checks[check.name].result, elapsed


@pytest.fixture
def saturated_port() -> Iterator[int]:
    """A listener whose accept queue is full: the kernel drops new SYNs, connects hang."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port: int = server.getsockname()[1]
    filler: list[socket.socket] = []
    try:
        for _ in range(8):  # bounded: Linux queues backlog + 1 connections
            client = socket.socket()
            client.settimeout(0.3)
            try:
                client.connect(("127.0.0.1", port))
            except OSError:
                client.close()
                break
            filler.append(client)
        else:
            pytest.skip("the kernel never stopped accepting: cannot make a hanging connect")
        yield port
    finally:
        for client in filler:
            client.close()
        server.close()


async def test_passes_against_a_local_listener_with_connect_time_observed() -> None:
    accepted = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result, _ = await run(TcpCheck("127.0.0.1", port))
        await asyncio.wait_for(accepted.wait(), 2)
    assert result.status is Status.PASS, result.output
    assert result.observed_unit == "ms"
    assert 0 <= result.observed_value < 1000
    assert result.component_type == "component"
    assert result.details == {"port": port}


async def test_fails_fast_against_a_closed_port(closed_port: int) -> None:
    result, elapsed = await run(TcpCheck("127.0.0.1", closed_port, timeout=1.0))
    assert result.status is Status.FAIL
    assert result.output == "connection refused"
    assert elapsed < 1.0 + 0.3


async def test_a_listener_that_accepts_and_stays_silent_passes(silent_port: int) -> None:
    # TCP reachability is all this check claims: the handshake completed.
    result, _ = await run(TcpCheck("127.0.0.1", silent_port, timeout=1.0))
    assert result.status is Status.PASS, result.output


async def test_a_connect_that_hangs_fails_within_the_timeout(saturated_port: int) -> None:
    result, elapsed = await run(TcpCheck("127.0.0.1", saturated_port, timeout=0.5))
    assert result.status is Status.FAIL
    assert "0.5 s" in result.output
    assert elapsed < 0.5 + 0.3


async def test_an_unresolvable_host_fails_without_naming_it() -> None:
    host = "tcp-check-internal-db.invalid"
    result, _ = await run(TcpCheck(host, 5432, timeout=2.0))
    assert result.status is Status.FAIL
    assert result.output == "the host name does not resolve"
    assert "internal" not in repr(result)


async def test_the_host_is_declared_secret_unless_loopback() -> None:
    assert TcpCheck("db.internal", 5432).secrets == ("db.internal",)
    assert TcpCheck("127.0.0.1", 5432).secrets == ()
    assert TcpCheck("localhost", 5432).secrets == ()


@pytest.mark.parametrize(
    ("host", "port", "named"),
    [("", 80, "host"), ("127.0.0.1", 0, "port"), ("127.0.0.1", 70000, "port")],
)
async def test_bad_options_are_refused_naming_them(host: str, port: int, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        TcpCheck(host, port)
