"""SshCheck against sshd instances the tests start with their own host key and config."""

from __future__ import annotations

import asyncio
import gc
import getpass
import logging
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.ssh import SshCheck
from tests.services._owned_directory import OwnedSshd, owned_sshd
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    eventually,
    run_once,
    timed_failure,
)
from tests.services._sockets import local_ports_to

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

USER = getpass.getuser()


@pytest.fixture
def client_key(tmp_path: Path) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "client_key"
    key.write_private_key(str(path))
    path.with_suffix(".pub").write_bytes(key.export_public_key())
    return path


@pytest.fixture
def sshd(tmp_path: Path, client_key: Path) -> Iterator[OwnedSshd]:
    public = client_key.with_suffix(".pub").read_text().strip()
    with owned_sshd(tmp_path / "sshd", public) as server:
        yield server


@pytest.fixture
def known_hosts(sshd: OwnedSshd) -> Path:
    host_key = (sshd.workdir / "ssh_host_ed25519_key.pub").read_text().strip()
    path = sshd.workdir / "known_hosts"
    path.write_text(f"[127.0.0.1]:{sshd.port} {host_key}\n")
    return path


def check_for(sshd: OwnedSshd, key: Path, known: Path, **options: object) -> SshCheck:
    return SshCheck(
        "127.0.0.1",
        port=sshd.port,
        username=USER,
        client_keys=[str(key)],
        known_hosts=str(known),
        **options,  # type: ignore[arg-type]  # options of the test's choosing
    )


@pytest.fixture(autouse=True)
def _workdir(tmp_path: Path) -> None:
    (tmp_path / "sshd").mkdir()


@pytest.mark.asyncio
async def test_sftp_stat_over_a_key_login(
    sshd: OwnedSshd, client_key: Path, known_hosts: Path
) -> None:
    health = Health()
    health.add(check_for(sshd, client_key, known_hosts, path=str(sshd.workdir)))
    health.add(check_for(sshd, client_key, known_hosts, name="missing", path="/nonexistent/x"))
    report = await health.arun(None)
    await health.astop()
    ok, missing = report.checks["ssh"].result, report.checks["missing"].result
    assert ok.status is Status.PASS, ok.output
    assert ok.details["path_type"] == "directory"
    assert ok.details["server_version"].startswith("SSH-2.0-OpenSSH")
    assert missing.status is Status.FAIL
    assert "No such file" in missing.output


@pytest.mark.asyncio
async def test_a_command_passes_on_exit_status_zero(
    sshd: OwnedSshd, client_key: Path, known_hosts: Path
) -> None:
    health = Health()
    health.add(check_for(sshd, client_key, known_hosts, name="ok", command="true"))
    health.add(check_for(sshd, client_key, known_hosts, name="bad", command="exit 3"))
    report = await health.arun(None)
    await health.astop()
    assert report.checks["ok"].result.status is Status.PASS, report.checks["ok"].result.output
    bad = report.checks["bad"].result
    assert bad.status is Status.FAIL
    assert bad.details["exit_status"] == 3


@pytest.mark.asyncio
async def test_an_unknown_host_key_fails(sshd: OwnedSshd, client_key: Path, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd.port} {other}\n")
    health = Health()
    health.add(check_for(sshd, client_key, wrong))
    result, _ = await run_once(health, "ssh")
    await health.astop()
    assert result.status is Status.FAIL
    assert "host key" in result.output.lower()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    check = SshCheck("127.0.0.1", port=port, username=USER, verify_host_key=False, timeout=1.0)
    result = await timed_failure(check)
    assert result.output


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(
    sshd: OwnedSshd, client_key: Path, known_hosts: Path
) -> None:
    health = Health()
    health.add(check_for(sshd, client_key, known_hosts, timeout=2.0))
    assert (await run_once(health, "ssh"))[0].status is Status.PASS
    sshd.stop()
    assert (await run_once(health, "ssh"))[0].status is Status.FAIL
    assert (await run_once(health, "ssh"))[0].status is Status.FAIL
    sshd.start()
    up, _ = await run_once(health, "ssh")
    assert up.status is Status.PASS, up.output
    await health.astop()


@pytest.mark.asyncio
async def test_100_runs_use_one_connection(
    sshd: OwnedSshd, client_key: Path, known_hosts: Path
) -> None:
    health = Health()
    health.add(check_for(sshd, client_key, known_hosts))
    assert (await run_once(health, "ssh"))[0].status is Status.PASS
    (port,) = local_ports_to(sshd.port)
    assert await eventually(lambda: sshd.connections().count(port) == 1)
    accepted = len(sshd.connections())
    for _ in range(99):
        result, _ = await run_once(health, "ssh")
        assert result.status is Status.PASS, result.output
    assert len(sshd.connections()) == accepted  # counted by sshd: no new connection
    assert local_ports_to(sshd.port) == {port}
    await health.astop()
    assert await eventually(lambda: local_ports_to(sshd.port) == set())


@pytest.mark.asyncio
async def test_canary_password_never_leaks(
    sshd: OwnedSshd, known_hosts: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The server takes keys only: the password login is refused.
    caplog.set_level(logging.DEBUG)
    check = SshCheck(
        "127.0.0.1",
        port=sshd.port,
        username=USER,
        password=CANARY,
        known_hosts=str(known_hosts),
        timeout=2.0,
    )
    health = Health()
    health.add(check)
    result, report = await run_once(health, "ssh")
    await health.astop()
    assert result.status is Status.FAIL
    assert_no_canary(result, report, caplog, check)


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="host") as info:
        SshCheck(f"user:{CANARY}@example.com")
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigurationError, match="username"):
        SshCheck("example.com", password="x")
    with pytest.raises(ConfigurationError, match="list"):
        SshCheck("example.com", username="u", client_keys="/key")
    with pytest.raises(ConfigurationError, match="port"):
        SshCheck("example.com", port=70000)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's socket, dropped
def test_same_instance_works_on_a_new_event_loop(
    sshd: OwnedSshd, client_key: Path, known_hosts: Path
) -> None:
    health = Health()
    health.add(check_for(sshd, client_key, known_hosts))

    async def status() -> Status:
        return (await run_once(health, "ssh"))[0].status

    assert asyncio.run(status()) is Status.PASS
    assert asyncio.run(status()) is Status.PASS
    assert health.run(None).checks["ssh"].result.status is Status.PASS
    health.stop()
    gc.collect()  # any warning about the dropped socket is raised here, under the filter
