"""The catalogue's check modules import their drivers lazily, and say what to install."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from healthprobe.checks.etcd import EtcdCheck
from healthprobe.checks.ldap import LdapCheck
from healthprobe.checks.memcached import MemcachedCheck
from healthprobe.checks.ntp import NtpCheck
from healthprobe.checks.smtp import SmtpCheck
from healthprobe.checks.ssh import SshCheck
from healthprobe.checks.zookeeper import ZooKeeperCheck

from ._drivers import assert_missing_driver_names_the_extra, drivers_imported_by

MODULES = [
    "healthprobe.checks.memcached",
    "healthprobe.checks.etcd",
    "healthprobe.checks.ldap",
    "healthprobe.checks.smtp",
    "healthprobe.checks.zookeeper",
    "healthprobe.checks.ssh",
    "healthprobe.checks.ntp",
]
DRIVERS = ["aiomcache", "httpx", "ldap3", "aiosmtplib", "kazoo", "asyncssh", "pyasn1"]

CASES: list[tuple[str, list[str], Callable[[], object]]] = [
    ("memcached", ["aiomcache"], lambda: MemcachedCheck("127.0.0.1:11211")),
    ("etcd", ["httpx"], lambda: EtcdCheck("http://127.0.0.1:2379")),
    ("ldap", ["ldap3"], lambda: LdapCheck("ldap://127.0.0.1")),
    ("smtp", ["aiosmtplib"], lambda: SmtpCheck("smtp://127.0.0.1")),
    ("zookeeper", ["kazoo", "kazoo.client"], lambda: ZooKeeperCheck("127.0.0.1:2181")),
    ("ssh", ["asyncssh"], lambda: SshCheck("127.0.0.1")),
]


@pytest.mark.parametrize(("extra", "hidden", "make"), CASES)
def test_missing_driver_names_the_extra(
    extra: str, hidden: list[str], make: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_missing_driver_names_the_extra(extra, hidden, make, monkeypatch)


def test_the_ntp_check_needs_no_driver() -> None:
    assert "127.0.0.1" not in NtpCheck("127.0.0.1").secrets  # loopback is no secret


def test_importing_the_check_modules_imports_no_driver() -> None:
    assert drivers_imported_by(MODULES, DRIVERS) == []


@pytest.mark.parametrize(
    ("make", "secret"),
    [
        (lambda: EtcdCheck("http://etcd.internal:2379", username="u", password="pw-1"), "pw-1"),
        (lambda: SmtpCheck("smtp://mail.internal:587", username="u", password="pw-2"), "pw-2"),
        (lambda: LdapCheck("ldap://ldap.internal", bind_dn="cn=u", password="pw-3"), "pw-3"),
        (lambda: SshCheck("sftp.internal", username="u", password="pw-4"), "pw-4"),
        (lambda: ZooKeeperCheck("zk1.internal:2181,zk2.internal:2181"), "zk2.internal"),
        (lambda: MemcachedCheck("cache.internal:11211"), "cache.internal"),
        (lambda: NtpCheck("time.internal"), "time.internal"),
    ],
)
def test_passwords_and_host_names_are_declared_secrets(
    make: Callable[[], object], secret: str
) -> None:
    check = make()
    assert secret in check.secrets  # type: ignore[attr-defined]  # every catalogue check has them
    assert secret not in repr(check)
