"""LoopLagCheck: a loop blocked by synchronous work shows as lag."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.checks.loop_lag import LoopLagCheck

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


async def run(health: Health) -> CheckResult:
    report = await health.arun(None, only="loop_lag")
    return report.checks["loop_lag"].result


def sampler_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "healthprobe:loop_lag"]


async def test_an_idle_loop_passes_with_lag_in_ms() -> None:
    health = Health()
    health.add(LoopLagCheck(warn=0.1, fail=0.5, period=0.05))
    result = await run(health)
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.observed_unit == "ms"
    assert 0 <= result.observed_value < 100
    assert result.details["samples"] >= 1
    assert result.component_type == "system"


async def test_a_blocking_sleep_on_the_loop_shows_as_lag_above_the_threshold() -> None:
    health = Health()
    health.add(LoopLagCheck(warn=0.1, fail=1.0, period=0.05))
    assert (await run(health)).status is Status.PASS  # starts the sampler
    time.sleep(0.3)  # noqa: ASYNC251 - blocking the loop on purpose: this is the lag
    result = await run(health)
    assert result.status is Status.WARN, result.output
    assert 250 <= result.observed_value < 1000
    assert "warn at 100 ms" in result.output
    await health.astop()


async def test_lag_ages_out_of_the_window() -> None:
    health = Health()
    health.add(LoopLagCheck(warn=0.1, fail=0.2, period=0.05, window=0.5))
    await run(health)
    time.sleep(0.3)  # noqa: ASYNC251 - the lag under test
    assert (await run(health)).status is Status.FAIL
    await asyncio.sleep(0.8)
    assert (await run(health)).status is Status.PASS
    await health.astop()


async def test_astop_stops_the_sampler() -> None:
    health = Health()
    health.add(LoopLagCheck(period=0.05))
    await run(health)
    assert len(sampler_tasks()) == 1
    await run(health)
    assert len(sampler_tasks()) == 1  # one sampler, however many runs
    await health.astop()
    assert sampler_tasks() == []


async def test_a_check_used_from_another_loop_restarts_its_sampler_there() -> None:
    check = LoopLagCheck(period=0.05)
    assert (await check.acheck()).status is Status.PASS
    other: list[CheckResult] = []

    def elsewhere() -> None:
        async def main() -> None:
            other.append(await check.acheck())
            await check.aclose()

        asyncio.run(main())

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(10)
    assert other
    assert other[0].status is Status.PASS
    for _ in range(3):  # let this loop process the cancellation sent from the other
        await asyncio.sleep(0)
    assert sampler_tasks() == []  # the sampler moved to the other loop and stopped there


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"warn": 0.5, "fail": 0.1}, "warn"),
        ({"period": 0}, "period"),
        ({"period": 3.0, "timeout": 2.0}, "period"),
        ({"window": 0.01, "period": 0.1}, "window"),
        ({"fail": "slow"}, "fail"),
    ],
)
async def test_bad_options_are_refused_naming_them(options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        LoopLagCheck(**options)  # type: ignore[arg-type]  # wrong values on purpose
