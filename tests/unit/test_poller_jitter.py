"""Polling jitter: replicas started together do not poll a dependency in lock-step."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time

import pytest

from healthprobe import Health
from healthprobe.engine.poller import JITTER, first_delay, next_delay


def test_a_jittered_wait_stays_within_ten_percent_of_the_interval() -> None:
    waits = [next_delay(10.0, jitter=True) for _ in range(2000)]
    assert min(waits) >= 10.0 * (1 - JITTER)
    assert max(waits) <= 10.0 * (1 + JITTER)
    assert statistics.pstdev(waits) > 0.3  # spread out, not one value


def test_the_first_poll_comes_within_one_interval_after_the_initial_delay() -> None:
    delays = [first_delay(2.0, 10.0, jitter=True) for _ in range(2000)]
    assert min(delays) >= 2.0
    assert max(delays) <= 12.0
    assert statistics.pstdev(delays) > 2.0  # uniform over the interval: about 2.9


def test_without_jitter_the_schedule_is_exact() -> None:
    assert first_delay(2.0, 10.0, jitter=False) == 2.0
    assert next_delay(10.0, jitter=False) == 10.0


async def _poll_times(health: Health, name: str, count: int, within: float) -> list[float]:
    seen: list[float] = []
    deadline = time.monotonic() + within
    while len(seen) < count and time.monotonic() < deadline:
        if health.executions(name) > len(seen):
            seen.append(time.monotonic())
        await asyncio.sleep(0.002)
    return seen


@pytest.mark.asyncio
async def test_replicas_started_together_poll_at_different_moments() -> None:
    replicas = []
    for _ in range(5):
        health = Health()
        health.add(lambda: True, name="db", interval=0.5)
        replicas.append(health)
    started = time.monotonic()
    for health in replicas:
        await health.astart()
    firsts: dict[int, float] = {}
    try:
        # Watch every replica at once: a first poll is timed when it happens.
        deadline = time.monotonic() + 3.0
        while len(firsts) < len(replicas) and time.monotonic() < deadline:
            for index, health in enumerate(replicas):
                if index not in firsts and health.executions("db"):
                    firsts[index] = time.monotonic()
            await asyncio.sleep(0.002)
    finally:
        for health in replicas:
            await health.astop()
    offsets = sorted(first - started for first in firsts.values())
    assert len(offsets) == 5
    assert all(offset <= 0.5 + 0.3 for offset in offsets)  # within one interval (+ slack)
    # Uniform over 0.5 s: five first polls within 20 ms of each other is a 1-in-10^5 event.
    assert offsets[-1] - offsets[0] > 0.02, offsets


@pytest.mark.asyncio
async def test_jitter_false_polls_at_once_and_then_every_interval() -> None:
    health = Health(jitter=False)
    health.add(lambda: True, name="db", interval=0.1)
    started = time.monotonic()
    async with health:
        times = await _poll_times(health, "db", 6, within=3.0)
    assert len(times) == 6
    assert times[0] - started < 0.1  # the first poll comes at start
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.08 <= gap <= 0.3 for gap in gaps), gaps  # generous: a loaded machine


@pytest.mark.asyncio
async def test_jittered_polls_keep_their_cadence() -> None:
    health = Health()
    health.add(lambda: True, name="db", interval=0.1)
    async with health:
        times = await _poll_times(health, "db", 8, within=4.0)
    assert len(times) == 8
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.085 <= gap <= 0.3 for gap in gaps), gaps
