"""A real uvicorn process holds its drain while work is in flight, then exits 0 before the cap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e._work_app import JOB_SECONDS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[2]
CAP = 20.0


def test_sigterm_waits_for_work_in_flight_not_for_the_cap(tmp_path: Path) -> None:
    port = free_port()
    done = tmp_path / "done"
    log = (tmp_path / "uvicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "tests.e2e._work_app:app",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        ],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "WORK_DONE_FILE": str(done)},
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:
            deadline = time.monotonic() + 20
            while True:
                assert proc.poll() is None, "uvicorn exited before serving"
                assert time.monotonic() < deadline, "never ready"
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            assert client.post("/start").status_code == 200
            assert "healthprobe_work_in_flight{} 1" in client.get("/metrics").text
            proc.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            assert client.get("/readyz").status_code == 503  # at once
            # Past the 0.5 s minimum, the server still serves while the job runs.
            time.sleep(1.2)
            assert not done.exists()
            assert client.get("/livez").status_code == 200
            assert client.get("/readyz").status_code == 503
        code = proc.wait(timeout=CAP + 15)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
    output = (tmp_path / "uvicorn.log").read_text()
    assert code == 0, output
    assert done.read_text() == "done", output  # the job finished before the exit
    assert JOB_SECONDS - 1.0 <= elapsed < CAP, (elapsed, output)
