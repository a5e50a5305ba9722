"""TlsCheck against a local TLS server whose certificates the test issues with trustme."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import trustme

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.checks.tls import TlsCheck, not_after_of

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

Serve = Callable[[trustme.LeafCert], AbstractAsyncContextManager[int]]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def issue(
    ca: trustme.CA, *, days: float, lived: float = 30, start: dt.datetime | None = None
) -> trustme.LeafCert:
    """A cert for 127.0.0.1/localhost valid from ``lived`` days ago until ``days`` from now."""
    start = start or now()
    return ca.issue_cert(
        "127.0.0.1",
        "localhost",
        not_before=start - dt.timedelta(days=lived),
        not_after=start + dt.timedelta(days=days),
    )


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def serve() -> Serve:
    """An asyncio TLS server on a loopback port presenting the given certificate."""

    @asynccontextmanager
    async def start(cert: trustme.LeafCert) -> AsyncIterator[int]:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await asyncio.wait_for(reader.read(1), 5)
            except (OSError, asyncio.TimeoutError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        async with server:
            yield server.sockets[0].getsockname()[1]

    return start


async def run(check: TlsCheck, timeout: float | None = None) -> tuple[CheckResult, float]:
    health = Health()
    health.add(check, timeout=timeout)
    started = time.monotonic()
    report = await health.arun(None)
    elapsed = time.monotonic() - started
    await health.astop()
    return report.checks[check.name].result, elapsed


async def test_a_certificate_valid_for_90_days_passes(ca: trustme.CA, serve: Serve) -> None:
    async with serve(issue(ca, days=90)) as port:
        result, _ = await run(TlsCheck("127.0.0.1", port, context=trusting(ca), warn_days=14))
    assert result.status is Status.PASS, result.output
    assert result.observed_unit == "days"
    assert 89.9 < result.observed_value <= 90
    assert result.details["verified"] is True
    assert re.fullmatch(
        r"certificate expires in (89\.9\d*|90) days \(20\d\d-.* UTC\)", result.output
    )


async def test_a_certificate_expiring_in_5_days_warns(ca: trustme.CA, serve: Serve) -> None:
    async with serve(issue(ca, days=5)) as port:
        result, _ = await run(TlsCheck("127.0.0.1", port, context=trusting(ca), warn_days=14))
    assert result.status is Status.WARN, result.output
    assert 4.9 < result.observed_value <= 5
    assert "(warn below 14 days)" in result.output


async def test_fail_days_fails_before_expiry(ca: trustme.CA, serve: Serve) -> None:
    async with serve(issue(ca, days=5)) as port:
        check = TlsCheck("127.0.0.1", port, context=trusting(ca), warn_days=30, fail_days=7)
        result, _ = await run(check)
    assert result.status is Status.FAIL, result.output
    assert "(fail below 7 days)" in result.output


async def test_an_expired_certificate_fails_and_still_reports_its_date(
    ca: trustme.CA, serve: Serve
) -> None:
    async with serve(issue(ca, days=-3, lived=60)) as port:
        result, _ = await run(TlsCheck("127.0.0.1", port, context=trusting(ca)))
        unverified, _ = await run(TlsCheck("127.0.0.1", port, verify=False))
    assert result.status is Status.FAIL
    assert result.details["verify_error"] == "certificate has expired"
    assert -3.01 < result.observed_value < -2.99
    assert "certificate expired 3 days ago" in result.output
    # Without verification the date alone fails it.
    assert unverified.status is Status.FAIL
    assert unverified.output.startswith("certificate expired 3 days ago")
    assert unverified.details["verified"] is False


async def test_an_untrusted_certificate_fails_with_its_date_shown(
    ca: trustme.CA, serve: Serve
) -> None:
    async with serve(issue(ca, days=90)) as port:
        # The system trust store does not know the test's CA.
        result, _ = await run(TlsCheck("127.0.0.1", port))
        self_signed_ok, _ = await run(TlsCheck("127.0.0.1", port, verify=False))
    assert result.status is Status.FAIL
    assert result.output.startswith("certificate does not verify: unable to get local issuer")
    assert 89.9 < result.observed_value <= 90
    assert self_signed_ok.status is Status.PASS


async def test_a_name_mismatch_fails_without_naming_the_internal_host(
    ca: trustme.CA, serve: Serve
) -> None:
    async with serve(issue(ca, days=90)) as port:
        check = TlsCheck(
            "127.0.0.1", port, context=trusting(ca), server_hostname="billing.corp.internal"
        )
        result, _ = await run(check)
    assert result.status is Status.FAIL
    assert "does not verify" in result.output
    assert "billing.corp" not in repr(result)


async def test_fails_fast_against_a_closed_port(closed_port: int) -> None:
    result, elapsed = await run(TlsCheck("127.0.0.1", closed_port, timeout=1.0))
    assert result.status is Status.FAIL
    assert result.output == "connection refused"
    assert elapsed < 1.0 + 0.3


async def test_fails_within_the_timeout_against_a_silent_listener(silent_port: int) -> None:
    result, elapsed = await run(TlsCheck("127.0.0.1", silent_port, timeout=1.0))
    assert result.status is Status.FAIL
    assert result.output in {"no TLS handshake within 1 s", "timed out after 1 s"}
    assert elapsed < 1.0 + 0.3


@pytest.mark.parametrize("days", [90, -3])
async def test_not_after_is_read_from_utc_time(ca: trustme.CA, days: int) -> None:
    start = now()
    cert = issue(ca, days=days, lived=100, start=start)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    assert not_after_of(der) == start + dt.timedelta(days=days)


async def test_not_after_is_read_from_generalized_time_after_2049(ca: trustme.CA) -> None:
    # RFC 5280: dates from 2050 on are encoded as GeneralizedTime, not UTCTime.
    when = dt.datetime(2055, 6, 1, 12, 30, tzinfo=dt.timezone.utc)
    cert = ca.issue_cert("127.0.0.1", not_before=now(), not_after=when)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    assert not_after_of(der) == when


async def test_garbage_is_not_a_certificate() -> None:
    with pytest.raises(ValueError, match="malformed certificate"):
        not_after_of(b"\x30\x82\xff\xff not a certificate")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"warn_days": 3, "fail_days": 7}, "warn_days"),
        ({"port": 0}, "port"),
        ({"verify": False, "context": ssl.create_default_context()}, "context"),
        ({"fail_days": "soon"}, "fail_days"),
    ],
)
async def test_bad_options_are_refused_naming_them(options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        TlsCheck("127.0.0.1", **options)  # type: ignore[arg-type]  # wrong values on purpose


async def test_the_certificate_expiry_is_a_prometheus_gauge(ca: trustme.CA, serve: Serve) -> None:
    from healthprobe.observability import render_metrics

    cert = issue(ca, days=20)
    pem = cert.cert_chain_pems[0].bytes().decode()
    expected = not_after_of(ssl.PEM_cert_to_DER_cert(pem))
    health = Health()
    async with serve(cert) as port:
        health.add(TlsCheck("127.0.0.1", port, context=trusting(ca), warn_days=30), name="api-tls")
        await health.arun(None)
    await health.astop()
    lines = [
        line
        for line in render_metrics(health).splitlines()
        if line.startswith("healthprobe_tls_certificate_expiry_timestamp_seconds{")
    ]
    assert len(lines) == 1, lines
    assert 'check="api-tls"' in lines[0]
    assert 'component="component"' in lines[0]  # the check's IETF componentType
    assert float(lines[0].rsplit(" ", 1)[1]) == expected.timestamp()
