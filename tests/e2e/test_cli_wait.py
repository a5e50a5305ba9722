"""``healthprobe wait``: blocks until a real server comes up, fails at its timeout."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e._cli_support import ROOT, healthprobe_command, run_cli, uvicorn_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def test_succeeds_once_a_late_server_comes_up(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/ok"
    started = time.monotonic()
    waiter = subprocess.Popen(
        [*healthprobe_command(), "wait", url, "--timeout", "30", "--interval", "0.5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        time.sleep(1.5)  # the server is not there yet: wait must still be waiting
        assert waiter.poll() is None
        with uvicorn_app(port, tmp_path / "uvicorn.log"):
            out, err = waiter.communicate(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait(5)
    assert waiter.returncode == 0, err
    assert 1.5 <= elapsed < 30
    lines = out.splitlines()
    # Not a terminal: plain lines, one per change of state.
    assert lines[0].startswith(f"waiting  {url} (")
    assert lines[0].endswith("connection refused")
    assert any(line.startswith(f"ready    {url} after ") for line in lines)
    assert lines[-1].startswith("all 1 ready after ")
    assert "\x1b[" not in out


def test_fails_at_its_timeout_naming_each_unhealthy_url(tmp_path: Path) -> None:
    port = free_port()
    with uvicorn_app(port, tmp_path / "uvicorn.log"):
        ok, failing = f"http://127.0.0.1:{port}/ok", f"http://127.0.0.1:{port}/fail"
        proc, elapsed = run_cli(["wait", ok, failing, "--timeout", "2", "--interval", "0.5"])
    assert proc.returncode == 1
    assert 1.9 <= elapsed < 10
    assert f"ready    {ok} after " in proc.stdout
    last = proc.stdout.splitlines()[-1]
    assert last.startswith("timed out after ")
    assert f"{failing} (" in last
    assert last.endswith("): answered 503 Service Unavailable")


def test_backoff_is_capped_by_interval(tmp_path: Path) -> None:
    # 0.25, 0.5, then 0.5 s pauses: about 7 attempts in 3 s (uncapped doubling: 4).
    url = f"http://127.0.0.1:{free_port()}/"
    proc, _ = run_cli(["wait", url, "--timeout", "3", "--interval", "0.5"])
    assert proc.returncode == 1
    assert "timed out after" in proc.stdout
    lines = proc.stdout.splitlines()
    waiting = [line for line in lines if line.startswith("waiting")]
    assert len(waiting) == 1  # the reason never changed: one plain line, not one per attempt
    attempts = int(lines[-1].split(" (", 1)[1].split(" ", 1)[0])
    assert 5 <= attempts <= 9, lines[-1]


def test_a_terminal_gets_live_lines_redrawn_in_place() -> None:
    import pty

    url = f"http://127.0.0.1:{free_port()}/"
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [*healthprobe_command(), "wait", url, "--timeout", "1.5", "--interval", "0.25"],
            cwd=ROOT,
            stdout=follower,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    out = b"".join(chunks).decode()
    assert proc.returncode == 1
    # Cursor up one line and erase it, once per attempt after the first drawing.
    assert out.count("\x1b[1F") >= 3
    assert out.count("\x1b[2K") >= 3


def test_bad_url_is_a_usage_error() -> None:
    proc, _ = run_cli(["wait", "localhost:8000"])
    assert proc.returncode == 2
    assert "must start with http://" in proc.stderr


def test_a_malformed_url_never_echoes_its_credentials() -> None:
    # Issue 17 point 5: the usage error printed the password of a scheme-less URL.
    secret = "Canary-pw-7f3a91"
    for raw in (f"u:{secret}@127.0.0.1:8000/readyz", f"ftp://u:{secret}@h/x?token={secret}"):
        proc, _ = run_cli(["wait", raw])
        assert proc.returncode == 2
        assert secret not in proc.stderr + proc.stdout
        assert "must start with http://" in proc.stderr
    proc, _ = run_cli(["wait", f"u:{secret}@127.0.0.1:8000/readyz"])
    assert "127.0.0.1:8000/readyz" in proc.stderr  # still says which URL


def test_a_redirect_is_not_ready_unless_asked(tmp_path: Path) -> None:
    port = free_port()
    with uvicorn_app(port, tmp_path / "uvicorn.log"):
        moved = f"http://127.0.0.1:{port}/moved"
        proc, _ = run_cli(["wait", moved, "--timeout", "1", "--interval", "0.5"])
        assert proc.returncode == 1
        assert proc.stdout.splitlines()[-1].endswith(
            "answered 302 Found: a redirect is not a health answer"
        )
        proc, _ = run_cli(["wait", moved, "--timeout", "5", "--accept-redirects"])
        assert proc.returncode == 0, proc.stdout
