"""The recipe's app, run as its Dockerfile runs it, answers the recipes' probe commands.

Real uvicorn, the machine's real PostgreSQL and Redis, the exact command lines
of ``examples/deploy/Dockerfile`` and ``compose.yaml`` (only the port changed).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import free_port, require_server
from tests.e2e._cli_support import ROOT, run_cli, stop, wait_listening

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.timeout(120)]

DEPLOY = ROOT / "examples" / "deploy"


def _with_port(command: list[str], port: int) -> list[str]:
    return [re.sub(r"127\.0\.0\.1:8000", f"127.0.0.1:{port}", part) for part in command]


def _json_list(pattern: str, text: str) -> list[str]:
    match = re.search(pattern, text, re.M)
    assert match, pattern
    found: list[str] = json.loads(match[1])
    return found


def test_the_recipe_app_passes_its_own_healthchecks_and_drains(tmp_path: Path) -> None:
    require_server("PostgreSQL", 5432)
    require_server("Redis", 6379)
    dockerfile = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    cmd = _json_list(r"^CMD (\[.*\])$", dockerfile)
    health_cmd = _json_list(r"HEALTHCHECK .*? CMD (\[.*\])$", dockerfile)
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    ready_cmd = compose["services"]["app"]["healthcheck"]["test"][1:]  # after "CMD"

    port = free_port()
    args = cmd[1:]
    args[args.index("--port") + 1] = str(port)
    args[args.index("--host") + 1] = "127.0.0.1"
    env = {
        **os.environ,
        "PG_DSN": "postgresql://postgres@127.0.0.1:5432/test",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "HEALTH_TOKEN": "e2e-token-0123456789",
    }
    log = tmp_path / "app.log"
    with log.open("wb") as out:
        app = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *args],
            cwd=DEPLOY,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_listening(port, app)
        for command in (health_cmd, ready_cmd):
            proc, _ = run_cli(_with_port(command, port)[1:])  # [1:]: drop "healthprobe"
            assert proc.returncode == 0, proc.stderr + log.read_text()
        assert run_cli(["probe", f"http://127.0.0.1:{port}/startupz"])[0].returncode == 0

        app.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        time.sleep(0.3)
        assert run_cli(_with_port(ready_cmd, port)[1:])[0].returncode == 1  # draining
        assert run_cli(_with_port(health_cmd, port)[1:])[0].returncode == 0  # still alive
        assert app.wait(30) == 0
        assert 9 <= time.monotonic() - sent < 30  # [serve] drain = 10
    finally:
        stop(app)
    # The recipe installs the access-log filter: no probe lines, whatever polled.
    assert "/livez" not in log.read_text()
    assert "/readyz" not in log.read_text()
