"""SmtpCheck against aiosmtpd servers the tests start as separate processes."""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.smtp import SmtpCheck
from tests.services._owned_daemons import OwnedSmtp, owned_smtp
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    eventually,
    run_once,
    timed_failure,
)
from tests.services._sockets import local_ports_to

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[OwnedSmtp]:
    with owned_smtp(tmp_path) as server:
        yield server


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_smtp(tmp_path: Path, ca: trustme.CA) -> Iterator[OwnedSmtp]:
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    with owned_smtp(tmp_path, tls=(cert_path, key_path)) as server:
        yield server


@pytest.mark.asyncio
async def test_passes_with_noop(smtp: OwnedSmtp) -> None:
    health = Health()
    health.add(SmtpCheck(f"smtp://127.0.0.1:{smtp.port}"))
    result, report = await run_once(health, "smtp")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert report.ok
    assert "250" in result.output
    assert result.details["tls"] is False
    assert "8bitmime" in result.details["extensions"]


@pytest.mark.asyncio
async def test_starttls_with_the_servers_ca(tls_smtp: OwnedSmtp, ca: trustme.CA) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    url = f"smtp://127.0.0.1:{tls_smtp.port}"
    health = Health()
    health.add(SmtpCheck(url, name="trusted", starttls=True, tls_context=context))
    health.add(SmtpCheck(url, name="untrusted", starttls=True))  # the system CAs only
    report = await health.arun(None)
    await health.astop()
    trusted, untrusted = report.checks["trusted"].result, report.checks["untrusted"].result
    assert trusted.status is Status.PASS, trusted.output
    assert trusted.details["tls"] is True
    assert untrusted.status is Status.FAIL
    assert "certificate" in untrusted.output.lower()


@pytest.mark.asyncio
async def test_starttls_required_but_not_offered_fails(smtp: OwnedSmtp) -> None:
    health = Health()
    health.add(SmtpCheck(f"smtp://127.0.0.1:{smtp.port}", starttls=True))
    result, _ = await run_once(health, "smtp")
    await health.astop()
    assert result.status is Status.FAIL
    assert "STARTTLS" in result.output or "starttls" in result.output.lower()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(SmtpCheck(f"smtp://127.0.0.1:{port}", timeout=1.0))
    assert result.output


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(smtp: OwnedSmtp) -> None:
    health = Health()
    health.add(SmtpCheck(f"smtp://127.0.0.1:{smtp.port}", timeout=1.0))
    assert (await run_once(health, "smtp"))[0].status is Status.PASS
    smtp.stop()
    assert (await run_once(health, "smtp"))[0].status is Status.FAIL
    assert (await run_once(health, "smtp"))[0].status is Status.FAIL
    smtp.start()
    up, _ = await run_once(health, "smtp")
    assert up.status is Status.PASS, up.output
    await health.astop()


@pytest.mark.asyncio
async def test_a_session_the_server_dropped_is_replaced_without_a_failure(
    smtp: OwnedSmtp,
) -> None:
    # Like a server's idle timeout: the session ends between two runs.
    check = SmtpCheck(f"smtp://127.0.0.1:{smtp.port}", timeout=1.0)
    health = Health()
    health.add(check)
    assert (await run_once(health, "smtp"))[0].status is Status.PASS
    smtp.stop()
    smtp.start()
    kept = check._kept.client  # private, pinned here: the old session is gone
    assert kept is not None
    assert await eventually(lambda: not kept.is_connected)
    result, _ = await run_once(health, "smtp")
    assert result.status is Status.PASS, result.output
    await health.astop()


@pytest.mark.asyncio
async def test_100_runs_use_one_session(smtp: OwnedSmtp) -> None:
    health = Health()
    health.add(SmtpCheck(f"smtp://127.0.0.1:{smtp.port}"))
    assert (await run_once(health, "smtp"))[0].status is Status.PASS
    ports = local_ports_to(smtp.port)
    assert len(ports) == 1
    (port,) = ports
    # The server logs each peer as it accepts it, before its greeting.
    assert await eventually(lambda: smtp.peers().count(port) == 1)
    accepted = len(smtp.peers())
    for _ in range(99):
        result, _ = await run_once(health, "smtp")
        assert result.status is Status.PASS, result.output
    assert len(smtp.peers()) == accepted  # counted by the server: no new session
    assert local_ports_to(smtp.port) == ports
    await health.astop()
    assert await eventually(lambda: local_ports_to(smtp.port) == set())


@pytest.fixture
def auth_smtp(tmp_path: Path) -> Iterator[OwnedSmtp]:
    with owned_smtp(tmp_path, auth=True) as server:
        yield server


@pytest.mark.asyncio
async def test_logs_in_once_with_the_right_password(auth_smtp: OwnedSmtp) -> None:
    url = f"smtp://127.0.0.1:{auth_smtp.port}"
    health = Health()
    health.add(SmtpCheck(url, username="probe", password="right-pw"))
    for _ in range(3):
        result, _ = await run_once(health, "smtp")
        assert result.status is Status.PASS, result.output
    assert result.details["authenticated"] is True
    (port,) = local_ports_to(auth_smtp.port)
    assert auth_smtp.peers().count(port) == 1  # one session for three runs...
    assert auth_smtp.log_text().count(">> b'AUTH ") == 1  # ... and one login
    await health.astop()


@pytest.mark.asyncio
@pytest.mark.parametrize("server", ["wrong_password", "no_auth"])
async def test_canary_password_never_leaks(
    server: str, smtp: OwnedSmtp, auth_smtp: OwnedSmtp, caplog: pytest.LogCaptureFixture
) -> None:
    # A server that refuses the password (535), and one that offers no AUTH at all.
    caplog.set_level(logging.DEBUG)
    port = auth_smtp.port if server == "wrong_password" else smtp.port
    check = SmtpCheck(f"smtp://127.0.0.1:{port}", username="probe", password=CANARY)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "smtp")
    await health.astop()
    assert result.status is Status.FAIL
    assert ("535" if server == "wrong_password" else "AUTH") in result.output
    assert_no_canary(result, report, caplog, check)


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="url"):
        SmtpCheck("mail.example.com:25")
    with pytest.raises(ConfigurationError, match="username/password") as info:
        SmtpCheck(f"smtp://probe:{CANARY}@mail.example.com")
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigurationError, match="starttls"):
        SmtpCheck("smtps://mail.example.com", starttls=True)
    with pytest.raises(ConfigurationError, match="together"):
        SmtpCheck("smtp://mail.example.com", password="x")


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's socket, dropped
def test_same_instance_works_on_a_new_event_loop(smtp: OwnedSmtp) -> None:
    health = Health()
    health.add(SmtpCheck(f"smtp://127.0.0.1:{smtp.port}"))

    async def status() -> Status:
        return (await run_once(health, "smtp"))[0].status

    assert asyncio.run(status()) is Status.PASS
    assert asyncio.run(status()) is Status.PASS
    assert health.run(None).checks["smtp"].result.status is Status.PASS
    health.stop()
    gc.collect()  # any warning about the dropped socket is raised here, under the filter
