"""Assertions the broker/HTTP check tests share: timed failures and canary leaks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from healthprobe import CheckResult, Health, Report, Status

__all__ = ["CANARY", "assert_no_canary", "eventually", "run_once", "timed_failure", "wait_until"]

#: A password no real output could contain by accident.
CANARY = "Canary-pw-7f3a91"

#: What a failure may add to the check's timeout (the issue's bound).
SLACK = 0.3


async def run_once(health: Health, name: str) -> tuple[CheckResult, Report]:
    """Run one check through the engine and return its result and the report."""
    report = await health.arun(None, only=name)
    return report.checks[name].result, report


async def timed_failure(check: object, *, timeout: float = 1.0) -> CheckResult:
    """Run ``check`` through ``Health.arun`` and assert it fails within timeout + 0.3 s."""
    health = Health()
    health.add(check, name="target", timeout=timeout)
    started = time.monotonic()
    result, _ = await run_once(health, "target")
    elapsed = time.monotonic() - started
    await health.astop()
    assert result.status is Status.FAIL, result
    assert elapsed < timeout + SLACK, f"failed after {elapsed:.3f} s: {result.output}"
    return result


def assert_no_canary(
    result: CheckResult, report: Report, caplog: pytest.LogCaptureFixture, *extra: object
) -> None:
    """The canary is in no output, detail, repr, and no log record (any level)."""
    texts = [result.output, repr(result), repr(report), str(result.details), *map(repr, extra)]
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(record.args) for record in caplog.records]
    texts += [str(record.exc_info) for record in caplog.records if record.exc_info]
    for text in texts:
        assert CANARY not in text


async def eventually(predicate: Callable[[], bool], *, within: float = 5.0) -> bool:
    """Poll ``predicate`` (bounded in time) until it holds: servers see a close a moment later."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def wait_until(predicate: Callable[[], bool], *, within: float = 5.0) -> bool:
    """Blocking twin of :func:`eventually`, for sync tests."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
