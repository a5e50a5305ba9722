"""PingCheck with the real ``ping`` program, and with ping missing or stuck."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.checks.ping import PingCheck

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

REQUIRE = os.environ.get("HEALTHPROBE_REQUIRE_SERVICES") == "1"


def need_ping() -> None:
    if shutil.which("ping") is not None:
        return
    if REQUIRE:
        pytest.fail("ping is not installed (HEALTHPROBE_REQUIRE_SERVICES=1)")
    pytest.skip("ping is not installed (apt-get install iputils-ping)")


async def run(check: PingCheck, timeout: float | None = None) -> tuple[CheckResult, float]:
    health = Health()
    health.add(check, timeout=timeout)
    started = time.monotonic()
    report = await health.arun(None)
    elapsed = time.monotonic() - started
    await health.astop()
    return report.checks[check.name].result, elapsed


def fake_program(directory: Path, body: str) -> Path:
    """A ``ping`` stand-in in ``directory`` that runs the shell ``body``."""
    program = directory / "ping"
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def gone(pid: int) -> bool:
    """True once ``pid`` is killed and reaped (a zombie still answers kill(pid, 0))."""
    for _ in range(40):  # bounded: 2 s at most
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def read_pid(pid_file: Path) -> int | None:
    text = pid_file.read_text().strip() if pid_file.exists() else ""
    return int(text) if text else None


async def wait_for_pid(pid_file: Path) -> int:
    for _ in range(100):  # bounded: 5 s at most
        pid = read_pid(pid_file)
        if pid is not None:
            return pid
        await asyncio.sleep(0.05)
    raise AssertionError("the fake ping never started")


async def test_loopback_answers_with_its_round_trip_time() -> None:
    need_ping()
    result, _ = await run(PingCheck("127.0.0.1"))
    assert result.status is Status.PASS, result.output
    assert result.observed_unit == "ms"
    assert 0 <= result.observed_value < 500
    assert result.output.startswith("reply in ")


async def test_a_clear_fail_when_ping_is_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no ping anywhere
    result, elapsed = await run(PingCheck("127.0.0.1"))
    assert result.status is Status.FAIL
    assert result.output == "ping is not installed (no 'ping' on PATH)"
    assert elapsed < 1.0


async def test_a_stuck_ping_is_killed_at_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    fake_program(tmp_path, f'echo $$ > "{pid_file}"\nexec sleep 30')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    result, elapsed = await run(PingCheck("127.0.0.1", timeout=0.5))
    assert result.status is Status.FAIL
    # The engine's bound and the check's own are the same: either may word it.
    assert result.output in {"no reply within 0.5 s", "timed out after 0.5 s"}
    assert elapsed < 0.5 + 0.3
    pid = await wait_for_pid(pid_file)
    assert await gone(pid), "the stuck ping outlived its run"
    # Called directly, the check's own bound answers, and reaps before returning.
    pid_file.unlink()
    direct = await PingCheck("127.0.0.1", timeout=0.5).acheck()
    assert direct.output == "no reply within 0.5 s"
    assert not alive(await wait_for_pid(pid_file))


async def test_a_cancelled_run_kills_its_ping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    fake_program(tmp_path, f'echo $$ > "{pid_file}"\nexec sleep 30')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    task = asyncio.ensure_future(PingCheck("127.0.0.1", timeout=10).acheck())
    pid = await wait_for_pid(pid_file)
    assert alive(pid)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await gone(pid), "the ping outlived its cancelled run"


async def test_no_reply_and_errors_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    fake_program(tmp_path, "exit 1")  # what ping does when no reply came
    silent, _ = await run(PingCheck("127.0.0.1", timeout=1.0))
    assert silent.status is Status.FAIL
    assert silent.output == "no reply within 1 s"
    fake_program(tmp_path, 'echo "ping: socket: Operation not permitted" >&2\nexit 2')
    denied, _ = await run(PingCheck("127.0.0.1", timeout=1.0))
    assert denied.status is Status.FAIL
    assert denied.output == "ping failed (exit status 2): ping: socket: Operation not permitted"


async def test_an_unknown_host_fails_without_naming_it() -> None:
    need_ping()
    result, _ = await run(PingCheck("internal-host.healthprobe.invalid", timeout=3.0))
    assert result.status is Status.FAIL
    assert result.output.startswith("ping failed (exit status 2)"), result.output
    assert "internal-host" not in repr(result)


@pytest.mark.parametrize("host", ["", "-f", "127.0.0.1 -f", "a\tb"])
async def test_a_host_ping_would_read_as_an_option_is_refused(host: str) -> None:
    with pytest.raises(ConfigurationError, match="host"):
        PingCheck(host)
