"""The execution guarantees of the engine: bounded, concurrent, never blocking, shared."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pytest

from healthprobe import Health, Status

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


def healthprobe_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("healthprobe:")]


async def test_a_check_that_never_returns_fails_within_its_timeout() -> None:
    health = Health()

    @health.check(timeout=0.5)
    async def hangs() -> None:
        await asyncio.Event().wait()

    started = time.monotonic()
    report = await health.arun("ready")
    elapsed = time.monotonic() - started
    assert elapsed < 0.8
    assert report.status is Status.FAIL
    assert report.checks["hangs"].result.output == "timed out after 0.5 s"


async def test_a_check_that_swallows_cancellation_is_still_bounded() -> None:
    health = Health()
    release = asyncio.Event()

    @health.check(timeout=0.3)
    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue  # refuses to stop

    started = time.monotonic()
    report = await health.arun()
    assert time.monotonic() - started < 0.8
    assert report.checks["stubborn"].status is Status.FAIL
    release.set()


async def test_checks_run_concurrently() -> None:
    health = Health()
    for index in range(3):

        async def slow() -> bool:
            await asyncio.sleep(0.2)
            return True

        health.add(slow, name=f"slow{index}")
    started = time.monotonic()
    report = await health.arun("ready")
    elapsed = time.monotonic() - started
    assert report.status is Status.PASS
    assert elapsed < 0.45  # one after another would take 0.6 s


async def test_sync_checks_run_concurrently_in_threads() -> None:
    health = Health()
    for index in range(3):
        health.add(lambda: time.sleep(0.2), name=f"sleepy{index}")
    started = time.monotonic()
    report = await health.arun()
    assert report.status is Status.PASS
    assert time.monotonic() - started < 0.45


async def test_a_blocking_sync_check_never_blocks_the_loop_nor_piles_up_threads() -> None:
    health = Health()
    gate = threading.Event()
    calls = 0

    @health.check(timeout=0.5)
    def blocking() -> None:
        nonlocal calls
        calls += 1
        gate.wait(30)  # a time.sleep(30) we can release at the end of the test

    ticks: list[float] = []
    running = True

    async def ticker() -> None:
        while running:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    tick_task = asyncio.create_task(ticker())
    before = len(healthprobe_threads())
    try:
        first = await health.arun()
        assert first.checks["blocking"].result.output == "timed out after 0.5 s"
        busiest = 0
        for _ in range(20):
            report = await health.arun()
            assert report.checks["blocking"].status is Status.FAIL
            busiest = max(busiest, len(healthprobe_threads()) - before)
        assert report.checks["blocking"].result.output == (
            "timed out after 0.5 s (the previous run is still in progress)"
        )
        assert busiest <= 1
        assert health.executions("blocking") == 21  # 21 runs reported a result...
        assert calls == 1  # ...from one call of the check, in one thread
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert len(ticks) > 500  # ~10 s of 10 ms ticks
        assert max(gaps) < 0.2  # the loop never stalled
    finally:
        running = False
        gate.set()
        await tick_task
    await asyncio.sleep(0.1)
    # The check keeps its one thread for the next runs (issue 14.1), no more.
    assert [t.name for t in healthprobe_threads()].count("healthprobe:blocking") == 1


async def test_a_stuck_thread_that_finishes_in_time_gives_its_result() -> None:
    health = Health()
    calls = 0

    @health.check(timeout=0.3)
    def slow() -> bool:
        nonlocal calls
        calls += 1
        time.sleep(0.5)
        return True

    assert (await health.arun()).status is Status.FAIL  # timed out at 0.3 s
    assert (await health.arun()).status is Status.PASS  # joined the same call, done at 0.5 s
    assert calls == 1


async def test_a_thousand_concurrent_runs_execute_the_check_once() -> None:
    health = Health()
    calls = 0

    @health.check
    async def counted() -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return True

    reports = await asyncio.gather(*(health.arun("ready") for _ in range(1000)))
    assert calls == 1
    assert {r.status for r in reports} == {Status.PASS}
    assert len({id(r.checks["counted"].result) for r in reports}) == 1


async def test_concurrent_runs_share_a_sync_check_too() -> None:
    health = Health()
    calls = 0

    @health.check
    def counted() -> bool:
        nonlocal calls
        calls += 1
        time.sleep(0.1)
        return True

    await asyncio.gather(*(health.arun() for _ in range(200)))
    assert calls == 1


async def test_a_caller_that_goes_away_does_not_cancel_the_shared_run() -> None:
    health = Health()
    calls = 0

    @health.check
    async def shared() -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return True

    impatient = asyncio.create_task(health.arun())
    patient = asyncio.create_task(health.arun())
    await asyncio.sleep(0.05)
    impatient.cancel()
    report = await patient
    assert report.status is Status.PASS
    assert calls == 1


async def test_the_overall_deadline_bounds_a_run() -> None:
    health = Health(deadline=0.3)

    @health.check(timeout=5)
    async def slow() -> bool:
        await asyncio.sleep(2)
        return True

    @health.check
    async def quick() -> bool:
        return True

    started = time.monotonic()
    report = await health.arun()
    assert time.monotonic() - started < 0.7
    assert report.checks["slow"].result.output == "deadline of 0.3 s exceeded"
    assert report.checks["quick"].status is Status.PASS
    shorter = await health.arun(deadline=0.1)
    assert shorter.checks["slow"].result.output == "deadline of 0.1 s exceeded"


async def test_cache_ttl_serves_the_reading_without_running_again() -> None:
    health = Health()
    calls = 0

    @health.check(cache_ttl=30)
    async def cached() -> bool:
        nonlocal calls
        calls += 1
        return True

    first = await health.arun()
    second = await health.arun()
    assert calls == 1
    assert second.checks["cached"].result is first.checks["cached"].result


async def test_a_polled_reading_past_its_max_staleness_reads_unknown() -> None:
    health = Health()
    hang = asyncio.Event()

    @health.check(interval=0.05, timeout=3, max_staleness=0.4, probes=["ready", "live"])
    async def polled() -> bool:
        if hang.is_set():
            await asyncio.sleep(60)  # the dependency stops answering
        return True

    async with health:
        await asyncio.sleep(0.2)
        fresh = await health.arun("ready")
        assert fresh.status is Status.PASS
        hang.set()
        await asyncio.sleep(0.8)  # > max_staleness, < timeout: no new reading yet
        stale = await health.arun("ready")
        result = stale.checks["polled"].result
        assert result.status is Status.UNKNOWN
        assert result.output.startswith("stale: the last reading is")
        assert result.details["stale_status"] == "pass"
        assert stale.verdict is Status.FAIL  # readiness: unknown is not ready
        live = await health.arun("live")
        assert live.status is Status.UNKNOWN
        assert live.verdict is Status.PASS  # liveness: unknown is alive


async def test_polling_serves_the_latest_reading_and_stops_cleanly() -> None:
    health = Health()
    value = {"ok": True}

    @health.check(interval=0.05, initial_delay=0.2)
    def flips() -> bool:
        return value["ok"]

    await health.astart()
    try:
        # Before the first poll, a probe runs the check on demand (issue 13.11)...
        early = await health.arun()
        assert early.status is Status.PASS
        assert health.executions("flips") == 1
        # ...and from then on it serves the reading instead of running it.
        assert (await health.arun()) is early
        assert health.executions("flips") == 1
        await asyncio.sleep(0.4)
        assert (await health.arun()).status is Status.PASS
        value["ok"] = False
        await asyncio.sleep(0.3)
        assert (await health.arun()).status is Status.FAIL
    finally:
        await health.astop()
    count = health.executions("flips")
    await asyncio.sleep(0.2)
    assert health.executions("flips") == count  # no polling after stop


async def test_thresholds_apply_to_real_runs() -> None:
    health = Health()
    outcomes = iter([True, False, False, True])

    @health.check(failure_threshold=2)
    def flaky() -> bool:
        return next(outcomes)

    statuses = [(await health.arun()).status for _ in range(4)]
    assert statuses == [Status.PASS, Status.PASS, Status.FAIL, Status.PASS]


async def test_stop_closes_what_checks_opened() -> None:
    closed: list[str] = []

    class Resource:
        name = "resource"

        async def acheck(self) -> bool:
            return True

        async def aclose(self) -> None:
            closed.append("async")

    class SyncResource:
        name = "sync_resource"

        def check(self) -> bool:
            return True

        def close(self) -> None:
            closed.append("sync")

    health = Health()
    health.add(Resource())
    health.add(SyncResource())
    async with health:
        assert (await health.arun()).status is Status.PASS
    assert sorted(closed) == ["async", "sync"]
