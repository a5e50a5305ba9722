"""``healthprobe serve``: the sidecar, run as the installed script, probed by ``probe``."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, require_server
from tests.e2e._cli_support import ROOT, healthprobe_command, run_cli, wait_listening

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


class Sidecar:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def probe(self, path: str) -> int:
        return run_cli(["probe", "--timeout", "3", self.url(path)])[0].returncode


def start(tmp_path: Path, config_text: str, *extra: str) -> Sidecar:
    port = free_port()
    config = tmp_path / "healthprobe.toml"
    config.write_text(config_text)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*healthprobe_command(), "serve", "-c", str(config), "--port", str(port), *extra],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_listening(port, proc)
    return Sidecar(proc, port, log)


@pytest.fixture
def sidecars() -> Iterator[list[Sidecar]]:
    started: list[Sidecar] = []
    yield started
    for sidecar in started:
        if sidecar.proc.poll() is None:
            sidecar.proc.kill()  # by its own handle: only the process this test started
            sidecar.proc.wait(10)


REDIS = """
[serve]
drain = 5
details = "always"

[checks.redis]
type = "redis"
url = "redis://127.0.0.1:6379/0"
interval = 1
"""


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        document: dict[str, object] = json.load(response)
        return document


@pytest.mark.services
def test_serves_the_probes_of_a_real_redis_and_drains_on_sigterm(
    tmp_path: Path, sidecars: list[Sidecar]
) -> None:
    require_server("Redis", 6379)
    sidecar = start(tmp_path, REDIS)
    sidecars.append(sidecar)
    assert sidecar.probe("/livez") == 0
    assert sidecar.probe("/startupz") == 0
    assert sidecar.probe("/readyz") == 0
    report = _get_json(sidecar.url("/health"))
    assert report["status"] == "healthy"
    checks = report["checks"]
    assert isinstance(checks, dict)
    assert checks["redis"]["output"] == "PONG"
    assert sidecar.probe("/nowhere") == 1  # 404

    sent = time.monotonic()
    sidecar.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # Draining: readiness fails at once, liveness and serving go on.
    assert sidecar.probe("/readyz") == 1
    assert sidecar.probe("/livez") == 0
    assert sidecar.proc.wait(20) == 0
    assert 4.8 <= time.monotonic() - sent < 20  # drain = 5 s, then a clean exit

    log = sidecar.log.read_text()
    # The probe paths are kept out of the access log; other requests are not.
    assert '"GET /health HTTP/1.1" 200' in log
    assert '"GET /nowhere HTTP/1.1" 404' in log
    assert "/readyz" not in log
    assert "/livez" not in log


def test_a_dependency_down_fails_readiness_not_liveness(
    tmp_path: Path, sidecars: list[Sidecar]
) -> None:
    config = f"""
[serve]
drain = 0

[checks.api]
type = "tcp"
host = "127.0.0.1"
port = {free_port()}
timeout = 1
"""
    sidecar = start(tmp_path, config)
    sidecars.append(sidecar)
    assert sidecar.probe("/readyz") == 1
    assert sidecar.probe("/livez") == 0
    reason = run_cli(["probe", sidecar.url("/readyz")])[0].stderr
    assert reason.endswith(": answered 503 Service Unavailable\n")
    sidecar.proc.send_signal(signal.SIGTERM)
    assert sidecar.proc.wait(15) == 0


def test_access_log_true_keeps_probe_lines(tmp_path: Path, sidecars: list[Sidecar]) -> None:
    sidecar = start(tmp_path, "[serve]\ndrain = 0\naccess_log = true\n")
    sidecars.append(sidecar)
    assert sidecar.probe("/livez") == 0
    sidecar.proc.send_signal(signal.SIGTERM)
    assert sidecar.proc.wait(15) == 0
    assert '"GET /livez HTTP/1.1" 200' in sidecar.log.read_text()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[serve]\nport = 99999\n", "serve.port"),
        ("[serve]\ndrain = -1\n", "serve.drain"),
        ('[serve]\nwarn_status = "429"\n', "serve.warn_status"),
        ("[serve]\nbogus = 1\n", "serve.bogus"),
    ],
)
def test_a_bad_serve_table_exits_2(tmp_path: Path, text: str, key: str) -> None:
    config = tmp_path / "healthprobe.toml"
    config.write_text(text)
    proc, _ = run_cli(["serve", "-c", str(config), "--port", str(free_port())], timeout=30)
    assert proc.returncode == 2
    assert f"{config}: {key}: " in proc.stderr
