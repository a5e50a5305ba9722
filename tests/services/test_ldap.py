"""LdapCheck against slapd servers the tests configure and start on spare ports."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.ldap import LdapCheck, _import_ldap3
from tests.services._owned_directory import (
    LDAP_ADMIN,
    LDAP_BASE,
    LDAP_PASSWORD,
    OwnedSlapd,
    owned_slapd,
)
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    run_once,
    timed_failure,
    wait_until,
)
from tests.services._sockets import local_ports_to

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

ldap3, _ = _import_ldap3()  # ldap3's own DeprecationWarning silenced, as the check does


@pytest.fixture
def slapd(tmp_path: Path) -> Iterator[OwnedSlapd]:
    with owned_slapd(tmp_path) as server:
        yield server


def url(server: OwnedSlapd) -> str:
    return f"ldap://127.0.0.1:{server.port}"


def admin(server: OwnedSlapd, **options: object) -> LdapCheck:
    return LdapCheck(url(server), bind_dn=LDAP_ADMIN, password=LDAP_PASSWORD, **options)  # type: ignore[arg-type]  # options of the test's choosing


@pytest.mark.asyncio
async def test_bind_and_search_the_base(slapd: OwnedSlapd) -> None:
    health = Health()
    health.add(admin(slapd, base=LDAP_BASE))
    health.add(LdapCheck(url(slapd), name="anonymous_root_dse"))
    report = await health.arun(None)
    await health.astop()
    bound, anonymous = report.checks["ldap"].result, report.checks["anonymous_root_dse"].result
    assert bound.status is Status.PASS, bound.output
    assert bound.details == {"bound": True, "entries": 1}
    assert anonymous.status is Status.PASS, anonymous.output
    assert report.ok


@pytest.mark.asyncio
# ldap3 2.9 matches the host name with ssl.match_hostname(), deprecated since Python 3.7.
@pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning")
async def test_ldaps_verifies_the_servers_certificate(tmp_path: Path) -> None:
    (tmp_path / "slapd").mkdir()
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    with owned_slapd(tmp_path / "slapd", tls=(cert_path, key_path)) as server:
        url = f"ldaps://127.0.0.1:{server.tls_port}"
        health = Health()
        health.add(LdapCheck(url, name="trusted", ca_file=str(ca_path), base=LDAP_BASE,
                             bind_dn=LDAP_ADMIN, password=LDAP_PASSWORD))  # fmt: skip
        health.add(LdapCheck(url, name="untrusted", base=LDAP_BASE))  # the system CAs only
        report = await health.arun(None)
        await health.astop()
    trusted, untrusted = report.checks["trusted"].result, report.checks["untrusted"].result
    assert trusted.status is Status.PASS, trusted.output
    assert untrusted.status is Status.FAIL
    assert "certificate" in untrusted.output.lower(), untrusted.output


@pytest.mark.asyncio
async def test_a_missing_base_or_unmatched_filter_fails(slapd: OwnedSlapd) -> None:
    health = Health()
    health.add(admin(slapd, base=f"ou=nobody,{LDAP_BASE}", name="missing"))
    health.add(admin(slapd, base=LDAP_BASE, search_filter="(cn=nobody)", name="unmatched"))
    report = await health.arun(None)
    await health.astop()
    missing, unmatched = report.checks["missing"].result, report.checks["unmatched"].result
    assert missing.status is Status.FAIL
    assert "does not exist" in missing.output
    assert unmatched.status is Status.FAIL
    assert "search_filter" in unmatched.output


@pytest.mark.asyncio
async def test_users_connection_is_used_and_left_bound(slapd: OwnedSlapd) -> None:
    server = ldap3.Server("127.0.0.1", port=slapd.port)
    connection = ldap3.Connection(server, LDAP_ADMIN, LDAP_PASSWORD, auto_bind=True)
    health = Health()
    health.add(LdapCheck(connection, base=LDAP_BASE, name="app"))
    result, _ = await run_once(health, "app")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert connection.bound  # astop() did not unbind the user's connection
    connection.unbind()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    check = LdapCheck(f"ldap://127.0.0.1:{port}", timeout=1.0)
    result = await timed_failure(check)
    assert result.output


def test_a_silent_server_frees_the_worker_thread_at_the_timeout(silent_port: int) -> None:
    # The engine stops waiting at the timeout anyway; the thread must stop too.
    check = LdapCheck(f"ldap://127.0.0.1:{silent_port}", timeout=1.0)
    started = time.monotonic()
    with pytest.raises(Exception, match=r"timeout|timed out"):
        check.check()
    assert time.monotonic() - started < 1.3
    check.close()


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(slapd: OwnedSlapd) -> None:
    health = Health()
    health.add(admin(slapd, base=LDAP_BASE, timeout=1.0))
    assert (await run_once(health, "ldap"))[0].status is Status.PASS
    slapd.stop()
    assert (await run_once(health, "ldap"))[0].status is Status.FAIL
    assert (await run_once(health, "ldap"))[0].status is Status.FAIL
    slapd.start()
    up, _ = await run_once(health, "ldap")
    assert up.status is Status.PASS, up.output
    await health.astop()


@pytest.mark.asyncio
async def test_100_runs_use_one_connection_and_one_bind(slapd: OwnedSlapd) -> None:
    health = Health()
    health.add(admin(slapd, base=LDAP_BASE))
    assert (await run_once(health, "ldap"))[0].status is Status.PASS
    (port,) = local_ports_to(slapd.port)
    assert wait_until(lambda: slapd.accepted().count(port) == 1)
    accepted = len(slapd.accepted())
    for _ in range(99):
        result, _ = await run_once(health, "ldap")
        assert result.status is Status.PASS, result.output
    assert len(slapd.accepted()) == accepted  # counted by slapd: no new connection
    assert slapd.log_text().count(f'BIND dn="{LDAP_ADMIN}" method=') == 1  # and one bind
    await health.astop()
    assert wait_until(lambda: local_ports_to(slapd.port) == set())


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["wrong_password", "closed"])
async def test_canary_password_never_leaks(
    where: str, slapd: OwnedSlapd, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = slapd.port if where == "wrong_password" else closed_port
    check = LdapCheck(f"ldap://127.0.0.1:{port}", bind_dn=LDAP_ADMIN, password=CANARY, timeout=1.0)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "ldap")
    await health.astop()
    assert result.status is Status.FAIL
    if where == "wrong_password":
        assert "invalidCredentials" in result.output
    assert_no_canary(result, report, caplog, check)


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="url") as info:
        LdapCheck(f"ldap://admin:{CANARY}@127.0.0.1")
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigurationError, match="together"):
        LdapCheck("ldap://127.0.0.1", bind_dn=LDAP_ADMIN)
    with pytest.raises(ConfigurationError, match="parentheses"):
        LdapCheck("ldap://127.0.0.1", search_filter="objectClass=*")
    with pytest.raises(ConfigurationError, match="timeout"):
        LdapCheck("ldap://127.0.0.1", timeout=0)
