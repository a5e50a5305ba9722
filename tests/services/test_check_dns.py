"""DnsCheck with the system resolver: localhost resolves, a .invalid name never does."""

from __future__ import annotations

import socket

import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.checks.dns import DnsCheck

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


async def run(check: DnsCheck) -> CheckResult:
    health = Health()
    health.add(check)
    report = await health.arun(None)
    await health.astop()
    return report.checks[check.name].result


async def test_localhost_resolves_with_a_count_and_no_addresses_shown() -> None:
    result = await run(DnsCheck("localhost"))
    assert result.status is Status.PASS, result.output
    expected = {
        (i[0], i[4][0]) for i in socket.getaddrinfo("localhost", None, 0, socket.SOCK_STREAM)
    }
    assert result.details["addresses"] == len(expected)
    assert sum(result.details["by_family"].values()) == len(expected)
    assert result.observed_unit == "ms"
    assert result.observed_value >= 0
    assert "127.0.0.1" not in repr(result)


async def test_an_invalid_name_fails_without_echoing_it() -> None:
    # RFC 6761: .invalid never resolves, anywhere.
    result = await run(DnsCheck("internal-service.healthprobe.invalid", timeout=3.0))
    assert result.status is Status.FAIL
    assert result.output in {"the name does not exist", "the name does not resolve"}
    assert "internal-service" not in repr(result)


async def test_fewer_addresses_than_required_fails() -> None:
    result = await run(DnsCheck("localhost", min_addresses=1000))
    assert result.status is Status.FAIL
    assert "fewer than 1000" in result.output


async def test_one_family_only() -> None:
    result = await run(DnsCheck("127.0.0.1", family=socket.AF_INET))
    assert result.status is Status.PASS
    assert result.details["by_family"] == {"ipv4": 1}


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"hostname": ""}, "hostname"),
        ({"hostname": "localhost", "family": 99}, "family"),
        ({"hostname": "localhost", "min_addresses": 0}, "min_addresses"),
        ({"hostname": "localhost", "timeout": float("inf")}, "timeout"),
    ],
)
async def test_bad_options_are_refused_naming_them(options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        DnsCheck(**options)  # type: ignore[arg-type]  # wrong values on purpose
