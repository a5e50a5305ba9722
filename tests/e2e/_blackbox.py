"""A real prometheus-blackbox-exporter for the e2e tests: own config, spare port, stopped by PID."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES, free_port, server_reachable

__all__ = ["blackbox_exporter", "exporter_binary"]


def exporter_binary() -> str:
    """The Debian package's binary; skips (fails in CI) when it is not installed."""
    path = shutil.which("prometheus-blackbox-exporter")
    if path is None:
        message = "prometheus-blackbox-exporter is not installed"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextlib.contextmanager
def blackbox_exporter(tmp_path: Path, modules: str) -> Iterator[str]:
    """The exporter with ``modules`` (its YAML) on a free loopback port; yields its base URL."""
    config = tmp_path / "blackbox.yml"
    config.write_text(modules)
    port = free_port()
    log = tmp_path / "blackbox.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                exporter_binary(), f"--config.file={config}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not server_reachable(port) and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        assert server_reachable(port), log.read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
