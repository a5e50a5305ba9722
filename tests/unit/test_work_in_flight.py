"""Work in flight ("beacons"): counted, waited for by the drain up to a cap, shown as a metric."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from healthprobe import ConfigurationError, Health
from healthprobe.http.serve import ServeLifecycle, drain_then_wait_for_work
from healthprobe.observability import render_metrics


def test_with_and_nested_work_are_counted_per_name() -> None:
    lifecycle = Health().lifecycle
    assert lifecycle.in_flight == 0
    with lifecycle.work("job"):
        with lifecycle.work("job"), lifecycle.work("upload"):
            assert lifecycle.in_flight == 3
            assert lifecycle.in_flight_by_name() == {"job": 2, "upload": 1}
        assert lifecycle.in_flight_by_name() == {"job": 1}
    assert lifecycle.in_flight == 0
    assert lifecycle.in_flight_by_name() == {}


def test_work_that_raises_is_still_closed() -> None:
    lifecycle = Health().lifecycle
    with pytest.raises(ZeroDivisionError), lifecycle.work():
        _ = 1 / 0
    assert lifecycle.in_flight == 0


def test_one_work_object_cannot_be_opened_twice() -> None:
    lifecycle = Health().lifecycle
    work = lifecycle.work()
    with work, pytest.raises(RuntimeError, match="already open"), work:
        pass
    assert lifecycle.in_flight == 0


@pytest.mark.asyncio
async def test_async_with_work() -> None:
    lifecycle = Health().lifecycle
    async with lifecycle.work("job"):
        assert lifecycle.in_flight == 1
    assert lifecycle.in_flight == 0


def test_wait_idle_returns_when_the_last_work_ends_in_another_thread() -> None:
    lifecycle = Health().lifecycle
    opened = threading.Event()

    def job() -> None:
        with lifecycle.work("job"):
            opened.set()
            time.sleep(0.3)

    worker = threading.Thread(target=job)
    worker.start()
    assert opened.wait(10)
    assert lifecycle.wait_idle(timeout=0.01) is False
    assert lifecycle.wait_idle(timeout=30) is True
    worker.join()


@pytest.mark.asyncio
async def test_the_drain_ends_at_the_minimum_when_no_work_is_open() -> None:
    health = Health()
    started = time.monotonic()
    assert await drain_then_wait_for_work(health, 0.2, 30.0) is True
    assert 0.2 <= time.monotonic() - started < 10  # not the cap


@pytest.mark.asyncio
async def test_the_drain_ends_early_when_work_reaches_zero_after_the_minimum() -> None:
    health = Health()

    async def job() -> None:
        async with health.lifecycle.work("job"):
            await asyncio.sleep(0.6)

    task = asyncio.ensure_future(job())
    await asyncio.sleep(0)  # the job opens its work
    started = time.monotonic()
    assert await drain_then_wait_for_work(health, 0.1, 30.0) is True
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 10, elapsed  # waited for the job, far from the cap
    await task


@pytest.mark.asyncio
async def test_the_drain_gives_up_at_the_cap(caplog: pytest.LogCaptureFixture) -> None:
    health = Health()
    with health.lifecycle.work("stuck"):
        started = time.monotonic()
        assert await drain_then_wait_for_work(health, 0.1, 0.5) is False
        assert 0.5 <= time.monotonic() - started < 10
    assert any("1 units of work still in flight" in r.getMessage() for r in caplog.records)


def test_drain_max_is_validated() -> None:
    with pytest.raises(ConfigurationError, match="drain_max"):
        ServeLifecycle(Health(), drain_max=-1)
    with pytest.raises(ConfigurationError, match="drain_max"):
        ServeLifecycle(Health(), drain_max=float("inf"))


def test_the_count_is_a_metric() -> None:
    health = Health()
    assert "\nhealthprobe_work_in_flight{} 0\n" in render_metrics(health)
    with health.lifecycle.work(), health.lifecycle.work():
        text = render_metrics(health)
    assert "# TYPE healthprobe_work_in_flight gauge" in text
    parsed = {f.name: f for f in text_string_to_metric_families(text)}
    assert parsed["healthprobe_work_in_flight"].samples[0].value == 2
    assert "\nhealthprobe_work_in_flight{} 2\n" in text
