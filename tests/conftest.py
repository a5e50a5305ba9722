"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import socket

import pytest

#: Set by .ci/run: a missing server is then a failure, not a skip.
REQUIRE_SERVICES = os.environ.get("HEALTHPROBE_REQUIRE_SERVICES") == "1"


def server_reachable(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_server(name: str, port: int, host: str = "127.0.0.1") -> None:
    """Skip (on a laptop) or fail (in CI) when the named server is not listening."""
    if server_reachable(port, host):
        return
    message = f"{name} is not listening on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (HEALTHPROBE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
