"""MemoryCheck, CpuCheck and LoadCheck against this machine's real readings."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import psutil
import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.checks.system import CpuCheck, LoadCheck, MemoryCheck

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


async def run(check: MemoryCheck | CpuCheck | LoadCheck) -> CheckResult:
    health = Health()
    health.add(check)
    report = await health.arun(None)
    await health.astop()
    return report.checks[check.name].result


def burn(seconds: float) -> None:
    """Keep one core busy for ``seconds`` (bounded by the clock)."""
    end = time.monotonic() + seconds
    total = 0
    while time.monotonic() < end:
        total += 1


async def test_memory_passes_warns_and_fails_around_the_real_usage() -> None:
    real = psutil.virtual_memory().percent
    assert 0 < real < 100
    passed = await run(MemoryCheck(warn=min(100.0, real * 2 + 5), fail=None))
    assert passed.status is Status.PASS, passed.output
    assert passed.observed_unit == "percent"
    assert passed.observed_value == pytest.approx(real, rel=0.3, abs=2.0)
    assert passed.component_type == "system"
    warned = await run(MemoryCheck(warn=real * 0.5, fail=min(100.0, real * 2 + 5)))
    assert warned.status is Status.WARN, warned.output
    assert f"warn at {real * 0.5:g}" in warned.output
    failed = await run(MemoryCheck(warn=real * 0.25, fail=real * 0.5))
    assert failed.status is Status.FAIL, failed.output


async def test_cpu_measures_the_window_since_the_previous_run_without_blocking() -> None:
    check = CpuCheck(warn=1.0)
    psutil.cpu_percent(interval=None)  # psutil's own reading over the same window
    burn(0.5)
    started = time.monotonic()
    result = await run(check)
    assert time.monotonic() - started < 0.5  # no sampling sleep inside the probe
    reference = psutil.cpu_percent(interval=None)
    assert result.status is Status.WARN, result.output
    assert result.observed_unit == "percent"
    # One busy core out of the usable ones, measured twice over (almost) the same window.
    assert result.observed_value == pytest.approx(reference, abs=15.0)
    assert result.observed_value >= 100 / (os.cpu_count() or 1) * 0.5


async def test_each_run_measures_from_the_previous_run() -> None:
    check = CpuCheck(warn=None)
    await asyncio.sleep(0.6)
    first = await run(check)  # the window since construction (~0.6 s on every core)
    await asyncio.sleep(0.2)
    second = await run(check)  # the window since the first run only (~0.2 s)
    assert first.status is Status.PASS
    assert second.status is Status.PASS
    # CPU seconds of the window, summed over cores (idle included), track wall time.
    assert second.details["window_cpu_seconds"] < first.details["window_cpu_seconds"] * 0.75


async def test_load_per_core_against_thresholds() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cores
    real = os.getloadavg()[0] / cores
    passed = await run(LoadCheck(warn=real + 10))
    assert passed.status is Status.PASS, passed.output
    assert passed.observed_unit == "load per core"
    assert passed.observed_value == pytest.approx(real, abs=1.0)
    assert passed.details["cores"] == cores
    # Load is never negative, so a zero threshold trips whatever the machine does.
    assert (await run(LoadCheck(warn=0.0))).status is Status.WARN
    assert (await run(LoadCheck(warn=0.0, fail=0.0, minutes=15))).status is Status.FAIL


@pytest.mark.parametrize(
    ("factory", "named"),
    [
        (lambda: MemoryCheck(warn=101), "warn"),
        (lambda: MemoryCheck(warn=96, fail=95), "warn"),
        (lambda: MemoryCheck(fail=-5), "fail"),
        (lambda: CpuCheck(timeout=-1), "timeout"),
        (lambda: CpuCheck(warn=True), "warn"),
        (lambda: LoadCheck(minutes=2), "minutes"),
        (lambda: LoadCheck(warn=3, fail=2), "warn"),
    ],
)
async def test_bad_options_are_refused_naming_them(
    factory: Callable[[], object], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        factory()
