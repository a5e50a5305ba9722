"""Servers a test owns for the directory/coordination checks: slapd, sshd and ZooKeeper.

As in _owned_servers: spare loopback ports, a temp dir, the foreground
process stopped by its PID, restartable on the same port; each server's own
log counts the connections it accepted.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.conftest import free_port
from tests.services._owned_servers import OwnedServer, _need, _running

__all__ = [
    "LDAP_ADMIN",
    "LDAP_BASE",
    "LDAP_PASSWORD",
    "OwnedSlapd",
    "OwnedSshd",
    "OwnedZooKeeper",
    "owned_slapd",
    "owned_sshd",
    "owned_zookeeper",
]

LDAP_BASE = "dc=example,dc=org"
LDAP_ADMIN = f"cn=admin,{LDAP_BASE}"
LDAP_PASSWORD = "admin-secret"  # noqa: S105 - a throwaway test server's password


class OwnedSlapd(OwnedServer):
    """slapd logging at level "stats": one ``ACCEPT`` line per connection."""

    def accepted(self) -> list[int]:
        """The client port of every connection slapd accepted, in order."""
        return [int(p) for p in re.findall(r"ACCEPT from IP=127\.0\.0\.1:(\d+)", self.log_text())]


@contextlib.contextmanager
def owned_slapd(workdir: Path) -> Iterator[OwnedSlapd]:
    """slapd with its own slapd.conf and an MDB database holding ``LDAP_BASE``."""
    port = free_port()
    (workdir / "db").mkdir()
    config = workdir / "slapd.conf"
    config.write_text(
        "include /etc/ldap/schema/core.schema\n"
        f"pidfile {workdir / 'slapd.pid'}\n"
        "modulepath /usr/lib/ldap\n"
        "moduleload back_mdb\n"
        "database mdb\n"
        f'suffix "{LDAP_BASE}"\n'
        f'rootdn "{LDAP_ADMIN}"\n'
        f"rootpw {LDAP_PASSWORD}\n"
        f"directory {workdir / 'db'}\n"
        "maxsize 10485760\n"
    )
    base = workdir / "base.ldif"
    base.write_text(
        f"dn: {LDAP_BASE}\nobjectClass: dcObject\nobjectClass: organization\n"
        "o: Example\ndc: example\n"
    )
    subprocess.run(
        [_need("slapadd"), "-f", str(config), "-l", str(base)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    # -d 256 ("stats"): stay in the foreground and log each connection to stderr.
    command = [_need("slapd"), "-f", str(config), "-h", f"ldap://127.0.0.1:{port}/", "-d", "256"]
    with _running(OwnedSlapd("slapd", command, port, workdir)) as server:
        yield server
