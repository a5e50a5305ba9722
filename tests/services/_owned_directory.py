"""Servers a test owns for the directory/coordination checks: slapd, sshd and ZooKeeper.

As in _owned_servers: spare loopback ports, a temp dir, the foreground
process stopped by its PID, restartable on the same port; each server's own
log counts the connections it accepted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
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
LDAP_PASSWORD = "admin-secret"


class OwnedSlapd(OwnedServer):
    """slapd logging at level "stats": one ``ACCEPT`` line per connection."""

    tls_port = 0

    def accepted(self) -> list[int]:
        """The client port of every connection slapd accepted, in order."""
        return [int(p) for p in re.findall(r"ACCEPT from IP=127\.0\.0\.1:(\d+)", self.log_text())]


@contextlib.contextmanager
def owned_slapd(workdir: Path, *, tls: tuple[Path, Path] | None = None) -> Iterator[OwnedSlapd]:
    """slapd with its own slapd.conf and an MDB database holding ``LDAP_BASE``.

    With ``tls`` (certificate, key files) it also listens for ``ldaps://`` on
    ``server.tls_port``.
    """
    port, tls_port = free_port(), free_port()
    (workdir / "db").mkdir()
    config = workdir / "slapd.conf"
    tls_lines = ""
    if tls is not None:
        tls_lines = f"TLSCertificateFile {tls[0]}\nTLSCertificateKeyFile {tls[1]}\n"
    config.write_text(
        "include /etc/ldap/schema/core.schema\n"
        f"{tls_lines}"
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
    urls = f"ldap://127.0.0.1:{port}/"
    if tls is not None:
        urls += f" ldaps://127.0.0.1:{tls_port}/"
    command = [_need("slapd"), "-f", str(config), "-h", urls, "-d", "256"]
    server = OwnedSlapd("slapd", command, port, workdir)
    server.tls_port = tls_port
    with _running(server):
        yield server


class OwnedSshd(OwnedServer):
    """sshd in the foreground.

    Each session runs in a child of sshd (in a session of its own); stopping
    sshd stops those children too, by their PIDs, as a host going down does.
    """

    def ready(self) -> bool:
        """It serves once it sends its SSH banner."""
        return _banner(self.port)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        sessions = _descendants(process.pid)
        process.terminate()
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def connections(self) -> list[int]:
        """The client port of every connection sshd accepted, in order."""
        pattern = r"Connection from 127\.0\.0\.1 port (\d+)"
        return [int(p) for p in re.findall(pattern, self.log_text())]


def _descendants(pid: int) -> list[int]:
    """PIDs of ``pid``'s children, grandchildren...: read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        ppid = int(stat.rpartition(")")[2].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _banner(port: int) -> bool:
    # The port opening is not enough: wait for sshd's "SSH-2.0-..." banner.
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


@contextlib.contextmanager
def owned_sshd(workdir: Path, authorized_key: str) -> Iterator[OwnedSshd]:
    """sshd with its own host key and config, key login for ``authorized_key`` only."""
    port = free_port()
    host_key = workdir / "ssh_host_ed25519_key"
    subprocess.run(
        [_need("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    (workdir / "authorized_keys").write_text(authorized_key + "\n")
    config = workdir / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {host_key}\n"
        f"PidFile {workdir / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {workdir / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "StrictModes no\n"
        "UsePAM yes\n"  # not "no": sshd would refuse a root whose password is locked ("!")
        "Subsystem sftp internal-sftp\n"
        "LogLevel VERBOSE\n"
    )
    # sshd insists on its privilege-separation directory, even for a test instance.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    # -D: foreground; -e: log to stderr (our log file).
    command: Sequence[str] = [sshd, "-D", "-e", "-f", str(config)]
    server = OwnedSshd("sshd", command, port, workdir)
    with _running(server):
        yield server


ZOOKEEPER_START_TIMEOUT = 30.0


class OwnedZooKeeper(OwnedServer):
    """A standalone ZooKeeper (Java) with the four-letter words it is asked."""

    start_timeout = ZOOKEEPER_START_TIMEOUT  # Java is slow to start
    poll_every = 0.1

    def ready(self) -> bool:
        """It serves once ``srvr`` answers ("imok" comes before the server serves)."""
        return "Zookeeper version" in self.four_letters("srvr", quiet=True)

    def four_letters(self, word: str, *, quiet: bool = False) -> str:
        """The answer to a four-letter command (``""`` when quiet and unreachable)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(word.encode())
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError:
            if quiet:
                return ""
            raise
        return b"".join(chunks).decode(errors="replace")

    def client_ports(self) -> list[int]:
        """Client ports of the sessions' connections the server holds (``cons``)."""
        answer = self.four_letters("cons")
        return [int(p) for p in re.findall(r"/127\.0\.0\.1:(\d+)\[1\]", answer)]


#: A JVM's start on a busy 2-core machine: typically 1-3 s, bounded here.


@contextlib.contextmanager
def owned_zookeeper(workdir: Path) -> Iterator[OwnedZooKeeper]:
    """A standalone ZooKeeper with its own zoo.cfg, data dir and log, on a spare port."""
    port = free_port()
    config = workdir / "zoo.cfg"
    config.write_text(
        "tickTime=500\n"  # session timeouts of 1-10 s are allowed (2-20 ticks)
        f"dataDir={workdir / 'data'}\n"
        f"clientPort={port}\n"
        "clientPortAddress=127.0.0.1\n"
        "admin.enableServer=false\n"
        "4lw.commands.whitelist=srvr,cons,mntr\n"
    )
    java = _need("java")
    classpath = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"
    if not Path("/usr/share/java/zookeeper.jar").exists():
        _need("zookeeper-server")  # skips (or fails in CI) with a clear name
    command = [
        # A small heap, the serial GC and the C1 compiler only: a quicker start.
        java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        f"-Dzookeeper.log.dir={workdir}", "-cp", classpath,
        "org.apache.zookeeper.server.ZooKeeperServerMain", str(config),
    ]  # fmt: skip
    server = OwnedZooKeeper("zookeeper", command, port, workdir)
    with _running(server):
        yield server
