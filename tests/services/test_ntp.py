"""NtpCheck against chronyd servers the tests start on spare loopback UDP ports."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.ntp import NtpCheck
from tests.services._owned_daemons import OwnedChrony, owned_chrony
from tests.services._probe_asserts import CANARY, assert_no_canary, run_once, timed_failure

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


@pytest.fixture
def chrony(tmp_path: Path) -> Iterator[OwnedChrony]:
    with owned_chrony(tmp_path) as server:
        yield server


@pytest.fixture
def silent_udp_port() -> Iterator[int]:
    """A UDP port where a socket receives every datagram and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        yield sink.getsockname()[1]


@pytest.fixture
def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_the_local_clock_agrees_with_the_server(chrony: OwnedChrony) -> None:
    # chronyd serves this very machine's clock: the offset is near zero.
    health = Health()
    health.add(NtpCheck("127.0.0.1", port=chrony.port))
    result, report = await run_once(health, "ntp")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert report.ok
    assert result.observed_unit == "s"
    assert isinstance(result.observed_value, float)
    assert abs(result.observed_value) < 0.05
    assert result.details["stratum"] == 10  # chronyd's "local stratum 10"
    assert 0 <= result.details["delay_seconds"] < 0.5


@pytest.mark.asyncio
async def test_thresholds_grade_the_offset(chrony: OwnedChrony) -> None:
    # Even loopback cannot agree to the nanosecond: a 1 ns threshold trips.
    health = Health()
    health.add(NtpCheck("127.0.0.1", port=chrony.port, name="warns", offset_warn=1e-9))
    health.add(
        NtpCheck("127.0.0.1", port=chrony.port, name="fails", offset_warn=None, offset_fail=1e-9)
    )
    report = await health.arun(None)
    await health.astop()
    assert report.checks["warns"].result.status is Status.WARN
    assert report.checks["fails"].result.status is Status.FAIL


@pytest.mark.asyncio
async def test_no_server_fails_at_once(closed_udp_port: int) -> None:
    # The connected socket hears the ICMP "port unreachable": no wait for the timeout.
    result = await timed_failure(NtpCheck("127.0.0.1", port=closed_udp_port, timeout=1.0))
    assert result.latency is not None
    assert result.latency < 0.5
    assert "refused" in result.output.lower()


@pytest.mark.asyncio
async def test_a_silent_server_is_cut_at_the_timeout(silent_udp_port: int) -> None:
    await timed_failure(NtpCheck("127.0.0.1", port=silent_udp_port, timeout=1.0))


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(chrony: OwnedChrony) -> None:
    health = Health()
    health.add(NtpCheck("127.0.0.1", port=chrony.port, timeout=1.0))
    assert (await run_once(health, "ntp"))[0].status is Status.PASS
    chrony.stop()
    assert (await run_once(health, "ntp"))[0].status is Status.FAIL
    assert (await run_once(health, "ntp"))[0].status is Status.FAIL
    chrony.start()
    up, _ = await run_once(health, "ntp")
    assert up.status is Status.PASS, up.output
    await health.astop()


@pytest.mark.asyncio
async def test_each_run_is_one_request_on_one_socket(chrony: OwnedChrony) -> None:
    check = NtpCheck("127.0.0.1", port=chrony.port)
    health = Health()
    health.add(check)
    before = chrony.requests_served()
    assert (await run_once(health, "ntp"))[0].status is Status.PASS
    sock = check._kept.client  # private, pinned here: the kept socket
    assert sock is not None
    local = sock.getsockname()
    for _ in range(49):
        assert (await run_once(health, "ntp"))[0].status is Status.PASS
    assert check._kept.client is sock
    assert sock.getsockname() == local
    assert chrony.requests_served() - before == 50  # counted by chronyd
    await health.astop()
    assert sock.fileno() == -1  # closed


@pytest.mark.asyncio
async def test_the_host_name_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    # NTP has no password: the secret is the server's name.
    caplog.set_level(logging.DEBUG)
    check = NtpCheck(f"{CANARY.lower()}.invalid", timeout=1.0)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "ntp")
    await health.astop()
    assert result.status is Status.FAIL
    assert_no_canary(result, report, caplog, check)
    assert CANARY.lower() not in result.output


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="offset_warn"):
        NtpCheck("127.0.0.1", offset_warn=2, offset_fail=1)
    with pytest.raises(ConfigurationError, match="port"):
        NtpCheck("127.0.0.1", port=0)
    with pytest.raises(ConfigurationError, match="host") as info:
        NtpCheck(f"ntp://u:{CANARY}@example.com")
    assert CANARY not in str(info.value)


def test_same_instance_works_on_a_new_event_loop(chrony: OwnedChrony) -> None:
    health = Health()
    health.add(NtpCheck("127.0.0.1", port=chrony.port))

    async def status() -> Status:
        return (await run_once(health, "ntp"))[0].status

    assert asyncio.run(status()) is Status.PASS
    assert asyncio.run(status()) is Status.PASS
    assert health.run(None).checks["ntp"].result.status is Status.PASS
    health.stop()
