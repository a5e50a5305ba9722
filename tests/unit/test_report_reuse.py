"""An unchanged probe hands out the same report; anything that changes it makes a new one.

The HTTP layer caches its rendering on the report's identity, so these rules
are what keeps a cached response truthful: a new reading, an expired TTL, a
reading going stale, a new check, polling starting or stopping, and every
different selection (only / exclude) must each give a report of their own.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from healthprobe import Health, Status
from healthprobe.engine.served import MEMO_LIMIT

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(30)]


async def _first_poll(health: Health, name: str) -> None:
    # The reading, not the call: executions() counts a run when it starts.
    for _ in range(200):
        if health.latest(None, only=name).checks[name].result.time is not None:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{name} was never polled")


async def test_polled_checks_between_polls_give_the_same_report_object() -> None:
    health = Health(jitter=False)  # both first polls come at start
    health.add(lambda: True, name="a", interval=30.0)
    health.add(lambda: True, name="b", interval=30.0)
    async with health:
        await _first_poll(health, "a")
        await _first_poll(health, "b")
        first = await health.arun("ready")
        assert first.status is Status.PASS
        assert all([await health.arun("ready") is first for _ in range(50)])
        assert health.executions("a") == health.executions("b") == 1


async def test_a_new_reading_gives_a_new_report() -> None:
    health = Health()
    outcomes = iter([True, False])

    @health.check(cache_ttl=0.2)
    def flips() -> bool:
        return next(outcomes)

    first = await health.arun()
    assert await health.arun() is first  # within the TTL: served, not run
    await asyncio.sleep(0.25)
    second = await health.arun()  # the TTL expired: it ran again
    assert second is not first
    assert second.status is Status.FAIL
    assert health.executions("flips") == 2


async def test_a_reused_report_still_goes_stale_on_time() -> None:
    health = Health()
    hang = asyncio.Event()

    @health.check(interval=0.05, timeout=5, max_staleness=0.3)
    async def polled() -> bool:
        if hang.is_set():
            await asyncio.sleep(60)  # the dependency stops answering
        return True

    async with health:
        await _first_poll(health, "polled")
        await asyncio.sleep(0.1)
        hang.set()
        await asyncio.sleep(0.06)  # the poll that hangs has started
        last = time.monotonic()
        fresh = await health.arun()
        assert fresh.status is Status.PASS
        while (report := await health.arun()) is fresh:
            assert time.monotonic() - last < 2.0, "the reused report never went stale"
            await asyncio.sleep(0.01)
        # The last reading was taken at most one interval before `last`.
        assert time.monotonic() - last < 0.3 + 0.2
        assert report.checks["polled"].result.status is Status.UNKNOWN
        assert report.verdict is Status.FAIL
        # A stale result states its age: it is never handed out twice.
        assert await health.arun() is not report


async def test_a_check_added_later_joins_the_next_report() -> None:
    health = Health()
    health.add(lambda: True, name="a", cache_ttl=30)
    before = await health.arun()
    assert await health.arun() is before
    health.add(lambda: False, name="b", cache_ttl=30)
    after = await health.arun()
    assert set(after.checks) == {"a", "b"}
    assert after.status is Status.FAIL


async def test_each_selection_has_its_own_report() -> None:
    health = Health()
    health.add(lambda: True, name="a", cache_ttl=30)
    health.add(lambda: False, name="b", cache_ttl=30, critical=False)
    everything = await health.arun()
    only_a = await health.arun(only="a")
    without_b = await health.arun(exclude=["b"])
    with_unmatched = await health.arun(exclude=["nope"])
    assert everything.status is Status.WARN
    assert set(only_a.checks) == {"a"}
    assert set(without_b.checks) == {"a"}
    assert without_b.excluded == ("b",)
    assert with_unmatched.unmatched_excludes == ("nope",)
    assert set(with_unmatched.checks) == {"a", "b"}
    # Each is reused for its own selection, never for another one.
    assert await health.arun(exclude=["b", "b"]) is without_b
    assert await health.arun(exclude=("nope",)) is with_unmatched
    assert await health.arun() is everything
    assert (await health.arun(only="b")).checks.keys() == {"b"}
    assert health.executions("a") == health.executions("b") == 1


async def test_many_distinct_excludes_stay_bounded_and_correct() -> None:
    health = Health()
    health.add(lambda: True, name="a", cache_ttl=30)
    for index in range(600):  # ?exclude= values come from requests
        report = await health.arun(exclude=[f"x{index}"])
        assert report.unmatched_excludes == (f"x{index}",)
    assert len(health._reports) <= MEMO_LIMIT
    assert health.executions("a") == 1


async def test_starting_and_stopping_polling_changes_what_is_served() -> None:
    health = Health()
    calls = 0

    @health.check(interval=30.0, initial_delay=30.0)
    def polled() -> bool:
        nonlocal calls
        calls += 1
        return True

    async with health:
        # Polled, the first poll still far away: the first probe runs it on
        # demand (no "no result yet" for a worker's first probe), then it is served.
        first = await health.arun()
        assert first.status is Status.PASS
        assert await health.arun() is first
        assert calls == 1
    # Polling stopped: within its interval the reading is served as a cached one.
    stopped = await health.arun()
    assert stopped.checks["polled"].result is first.checks["polled"].result
    assert calls == 1
    async with health:
        # Polled again: the reading so far is served, nothing runs.
        again = await health.arun()
        assert again.checks["polled"].result is first.checks["polled"].result
        assert calls == 1


async def test_the_blocking_twin_hands_out_the_same_report_without_a_loop_trip() -> None:
    health = Health()
    health.add(lambda: True, name="a", cache_ttl=30)
    report = await health.arun()
    assert await asyncio.to_thread(health.run) is report
    assert await asyncio.to_thread(health.run, exclude=["nope"]) is not report
    assert health.executions("a") == 1


async def test_a_reading_on_another_threads_loop_makes_a_new_report() -> None:
    # health.run() from a thread runs on the private engine loop: its new
    # reading must invalidate the report the main loop handed out.
    health = Health()
    values = iter([True, False])
    health.add(lambda: next(values), name="flips", cache_ttl=0.1)
    first = await health.arun()
    assert first.status is Status.PASS
    await asyncio.sleep(0.15)
    from_thread = await asyncio.to_thread(health.run)
    assert from_thread.status is Status.FAIL
    assert (await health.arun()).status is Status.FAIL
    await asyncio.to_thread(health.stop)
