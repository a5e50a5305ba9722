"""More servers a test owns (memcached, etcd, aiosmtpd, chronyd), as in _owned_servers.

Each runs on spare loopback ports in the test's temp dir, in the
foreground (so it is stopped by its PID), and can be stopped and started
again on the same port.  Where the server can tell, it counts the
connections it accepted, so a test can assert that a check keeps one.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.conftest import free_port
from tests.services._owned_servers import OwnedServer, _need, _running

__all__ = [
    "OwnedChrony",
    "OwnedEtcd",
    "OwnedMemcached",
    "OwnedSmtp",
    "owned_chrony",
    "owned_etcd",
    "owned_memcached",
    "owned_smtp",
]


class OwnedMemcached(OwnedServer):
    """memcached; its own ``stats`` counts the connections it accepted."""

    _admin: socket.socket | None = None

    def stats(self) -> dict[str, str]:
        """``stats`` over one admin connection, kept so that it is counted once."""
        if self._admin is None:
            self._admin = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self._admin.sendall(b"stats\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            chunk = self._admin.recv(65536)
            if not chunk:
                break
            data += chunk
        fields = [line.split(" ", 2) for line in data.decode().splitlines()]
        return {f[1]: f[2] for f in fields if len(f) == 3 and f[0] == "STAT"}

    def total_connections(self) -> int:
        """Connections memcached accepted since it started (the admin one included)."""
        return int(self.stats()["total_connections"])

    def current_connections(self) -> int:
        """Connections open now (the admin one included)."""
        return int(self.stats()["curr_connections"])

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        super().stop()


@contextlib.contextmanager
def owned_memcached(workdir: Path, *extra: str) -> Iterator[OwnedMemcached]:
    """memcached on a spare port (TCP only, 64 MB unless ``extra`` says otherwise)."""
    port = free_port()
    command = [
        _need("memcached"), "-l", "127.0.0.1", "-p", str(port), "-U", "0",
        "-u", "root", "-m", "64", *extra,
    ]  # fmt: skip
    server = OwnedMemcached("memcached", command, port, workdir)
    with _running(server):
        yield server


class OwnedEtcd(OwnedServer):
    """A one-member etcd cluster whose data lives in the temp dir."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait (bounded) until the member has elected itself leader."""
        super().start()
        _wait_for_leader(self)

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            answer: dict[str, Any] = json.load(response)
        return answer


@contextlib.contextmanager
def owned_etcd(workdir: Path) -> Iterator[OwnedEtcd]:
    """etcd on a spare client port (and a spare peer port)."""
    port, peer = free_port(), free_port()
    client_url, peer_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer}"
    command = [
        _need("etcd"), "--name", "hp", "--data-dir", str(workdir / "etcd-data"),
        "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
        "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
        "--initial-cluster", f"hp={peer_url}", "--log-level", "warn",
    ]  # fmt: skip
    server = OwnedEtcd("etcd", command, port, workdir)
    with _running(server):
        yield server


def _wait_for_leader(server: OwnedEtcd, within: float = 10.0) -> None:
    # The port opens before the member has elected itself: wait (bounded) for a leader.
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            if server.call("/v3/maintenance/status", {}).get("leader"):
                return
        time.sleep(0.05)
    raise RuntimeError(f"etcd elected no leader: {server.log_text()}")


class OwnedSmtp(OwnedServer):
    """aiosmtpd in its own process, logging every connection it accepts."""

    def peers(self) -> list[int]:
        """The client port of every connection the server accepted, in order."""
        return [int(m) for m in re.findall(r"Peer: \('127\.0\.0\.1', (\d+)\)", self.log_text())]


@contextlib.contextmanager
def owned_smtp(
    workdir: Path, *, tls: tuple[Path, Path] | None = None, auth: bool = False
) -> Iterator[OwnedSmtp]:
    """aiosmtpd (``-n``: no setuid) on a spare port; STARTTLS with ``tls`` (cert, key).

    With ``auth``, the server of ``_smtp_server`` (one login, AUTH without TLS).
    """
    port = free_port()
    command: Sequence[str] = [
        # -d: log each accepted connection ("Peer: ...") to stderr, our log file.
        sys.executable, "-m", "aiosmtpd", "-n", "-d", "-l", f"127.0.0.1:{port}",
        "-c", "aiosmtpd.handlers.Sink",
    ]  # fmt: skip
    if tls is not None:
        command = [*command, "--tlscert", str(tls[0]), "--tlskey", str(tls[1])]
    if auth:
        command = [sys.executable, "-m", "tests.services._smtp_server", "127.0.0.1", str(port)]
    server = OwnedSmtp("smtp", command, port, workdir)
    if auth:  # its cwd, so that "-m tests.services..." imports; the log stays in workdir
        server.workdir = Path(__file__).resolve().parents[2]
    with _running(server):
        yield server


class OwnedChrony(OwnedServer):
    """chronyd serving NTP on a spare UDP port, never touching the system clock."""

    def __init__(self, command: Sequence[str], port: int, workdir: Path) -> None:
        super().__init__("chronyd", command, port, workdir)

    def ready(self) -> bool:
        """It serves once it answers an NTP request (UDP: no port to connect to)."""
        return sntp_answers(self.port)

    def requests_served(self) -> int:
        """NTP requests chronyd received, from its own statistics (``serverstats``)."""
        out = subprocess.run(
            [_need("chronyc"), "-h", str(self.socket_path), "-n", "serverstats"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout  # fmt: skip
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "NTP packets received":
                return int(value)
        raise RuntimeError(f"no NTP packet count in: {out}")

    socket_path = Path()


def sntp_answers(port: int) -> bool:
    """True when an NTP server on loopback ``port`` answers one client request."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(b"\x23" + bytes(47), ("127.0.0.1", port))
            data = sock.recv(512)
        except OSError:
            return False
    return len(data) >= 48 and struct.unpack("!B", data[1:2])[0] != 0


@contextlib.contextmanager
def owned_chrony(workdir: Path) -> Iterator[OwnedChrony]:
    """chronyd serving its local clock (stratum 10) on a spare loopback UDP port.

    chronyd drops root for its own user, who must reach its command socket:
    that lives in a directory of its own under /tmp (pytest's temp dirs are
    root's only), removed afterwards.
    """
    port, cmdport = free_port(), free_port()
    rundir = Path(tempfile.mkdtemp(prefix="hp-chrony-"))
    rundir.chmod(0o755)
    (rundir / "run").mkdir(mode=0o750)
    user = pwd.getpwnam("_chrony")
    os.chown(rundir / "run", user.pw_uid, user.pw_gid)
    config = workdir / "chrony.conf"
    config.write_text(
        f"port {port}\n"
        "bindaddress 127.0.0.1\n"
        "allow 127.0.0.1\n"
        # No upstream: serve the local clock, as an isolated network's server does.
        "local stratum 10\n"
        f"cmdport {cmdport}\n"
        "bindcmdaddress 127.0.0.1\n"
        f"bindcmdaddress {rundir / 'run' / 'chronyd.sock'}\n"
        f"pidfile {rundir / 'run' / 'chronyd.pid'}\n"
        f"driftfile {rundir / 'run' / 'chrony.drift'}\n"
    )
    # -d: foreground, logging to stderr; -x: never adjust the system clock;
    # -F 0: no seccomp filter.
    command = [_need("chronyd"), "-d", "-x", "-F", "0", "-f", str(config)]
    server = OwnedChrony(command, port, workdir)
    server.socket_path = rundir / "run" / "chronyd.sock"
    try:
        with _running(server):
            yield server
    finally:
        shutil.rmtree(rundir, ignore_errors=True)
