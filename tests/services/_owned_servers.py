"""Servers a test owns: started on spare loopback ports in a temp dir, stopped by PID.

The machine's own Redis, NATS and Mosquitto are never touched; a test that
needs a server to go down and come back starts one of these instead.  Each
can be stopped and started again on the *same* port, which is what a check
instance must survive.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, server_reachable

__all__ = ["OwnedServer", "owned_mosquitto", "owned_nats", "owned_redis"]

START_TIMEOUT = 10.0


class OwnedServer:
    """One server process, restartable on the same port."""

    def __init__(self, name: str, command: Sequence[str], port: int, workdir: Path) -> None:
        self.name = name
        self.command = list(command)
        self.port = port
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    #: How long start() waits for ready(), and how often it asks.
    start_timeout = START_TIMEOUT
    poll_every = 0.05

    def ready(self) -> bool:
        """True once the server serves; by default, when its port accepts connections."""
        return server_reachable(self.port)

    def start(self) -> None:
        """Start the process and wait (bounded by ``start_timeout``) until it is ``ready()``."""
        assert not self.running, f"{self.name} is already running"
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if self.ready():
                return
            time.sleep(self.poll_every)
        self.stop()
        raise RuntimeError(f"{self.name} did not start on port {self.port}: {self.log_text()}")

    def stop(self) -> None:
        """Stop the process by its PID (SIGTERM, then SIGKILL) and wait for it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        deadline = time.monotonic() + 5
        while server_reachable(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed")
    return path


@contextlib.contextmanager
def _running(server: OwnedServer) -> Iterator[OwnedServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def owned_redis(workdir: Path, *extra: str) -> Iterator[OwnedServer]:
    """A redis-server on a spare port that keeps nothing on disk."""
    port = free_port()
    command = [
        _need("redis-server"),
        "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(workdir), "--daemonize", "no", *extra,
    ]  # fmt: skip
    with _running(OwnedServer("redis", command, port, workdir)) as server:
        yield server


class OwnedNats(OwnedServer):
    """nats-server with its monitoring port, to count connections server-side."""

    def __init__(self, command: Sequence[str], port: int, monitor: int, workdir: Path) -> None:
        super().__init__("nats", command, port, workdir)
        self.monitor_port = monitor

    def connz(self) -> dict[str, Any]:
        """The server's /connz document (open connections, with their names)."""
        url = f"http://127.0.0.1:{self.monitor_port}/connz"
        with urllib.request.urlopen(url, timeout=5) as response:
            data: dict[str, Any] = json.load(response)
        return data

    def connections_named(self, name: str) -> list[dict[str, Any]]:
        return [c for c in self.connz().get("connections") or [] if c.get("name") == name]


@contextlib.contextmanager
def owned_nats(workdir: Path, *, jetstream: bool = False) -> Iterator[OwnedNats]:
    """A nats-server on a spare port, monitoring (/connz) on another."""
    port, monitor = free_port(), free_port()
    command = [_need("nats-server"), "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor)]
    if jetstream:
        command += ["-js", "-sd", str(workdir / "js")]
    server = OwnedNats(command, port, monitor, workdir)
    with _running(server):
        yield server


class OwnedMosquitto(OwnedServer):
    """mosquitto logging every connection to a file of ours."""

    @property
    def broker_log(self) -> Path:
        # A file the broker writes itself: its stdout is block-buffered.
        return self.workdir / "broker.log"

    def connections_from(self, client_id: str) -> int:
        """How many times ``client_id`` connected, from the broker's own log."""
        if not self.broker_log.exists():
            return 0
        return sum(
            1
            for line in self.broker_log.read_text(errors="replace").splitlines()
            if "New client connected" in line and f" as {client_id} " in line
        )


@contextlib.contextmanager
def owned_mosquitto(workdir: Path) -> Iterator[OwnedMosquitto]:
    """A mosquitto broker on a spare port, anonymous, logging connections to a file."""
    port = free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        # Run as root, mosquitto would switch to its own user, who cannot write
        # into the test's temp dir; "user root" keeps it as it was started.
        "user root\n"
        f"log_dest file {workdir / 'broker.log'}\n"
        "log_type all\n"
        "connection_messages true\n"
    )
    command = [_need("mosquitto"), "-c", str(config)]
    server = OwnedMosquitto("mosquitto", command, port, workdir)
    with _running(server):
        yield server
