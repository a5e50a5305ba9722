"""History: a bounded ring buffer per check, lifetime counters, one shared instance per Health."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from healthprobe import CheckResult, Health, Reading, Status
from healthprobe.observability import History

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def reading(name: str, status: Status, second: int, latency: float = 0.01) -> Reading:
    result = CheckResult(
        status, f"{status.value} #{second}", latency=latency, time=T0 + dt.timedelta(seconds=second)
    )
    return Reading(name, True, None, result)


def test_keeps_only_the_last_size_entries_but_counts_every_reading() -> None:
    history = History(size=3)
    statuses = [Status.PASS, Status.FAIL, Status.PASS, Status.WARN, Status.FAIL]
    for second, status in enumerate(statuses):
        history(reading("db", status, second, latency=second / 10))
    memory = history.get("db")
    assert [e.status for e in memory.entries] == [Status.PASS, Status.WARN, Status.FAIL]
    assert [e.latency for e in memory.entries] == [0.2, 0.3, 0.4]
    assert memory.runs == 5
    assert memory.failures == 2
    assert memory.last_success == T0 + dt.timedelta(seconds=2)
    assert memory.last_failure is not None
    assert memory.last_failure.output == "fail #4"


def test_last_failure_outlives_the_ring_buffer() -> None:
    history = History(size=2)
    history(reading("db", Status.FAIL, 0))
    for second in range(1, 10):
        history(reading("db", Status.PASS, second))
    memory = history.get("db")
    assert all(e.status is Status.PASS for e in memory.entries)
    assert memory.last_failure is not None
    assert memory.last_failure.output == "fail #0"


def test_uptime_ratio_counts_pass_and_warn_as_up() -> None:
    history = History(size=10)
    assert history.get("db").uptime_ratio is None
    for second, status in enumerate([Status.PASS, Status.WARN, Status.FAIL, Status.UNKNOWN]):
        history(reading("db", status, second))
    assert history.get("db").uptime_ratio == pytest.approx(0.5)


def test_checks_are_kept_apart_and_unknown_names_are_empty() -> None:
    history = History()
    history(reading("a", Status.PASS, 0))
    history(reading("b", Status.FAIL, 0))
    assert history.names() == ("a", "b")
    assert history.get("a").failures == 0
    assert history.get("b").failures == 1
    empty = history.get("nope")
    assert (empty.entries, empty.runs, empty.last_failure) == ((), 0, None)


@pytest.mark.parametrize("size", [0, -1, True, 2.5])
def test_rejects_a_size_that_is_not_a_positive_integer(size: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        History(size=size)  # type: ignore[arg-type] # the point is a wrong type


@pytest.mark.asyncio
async def test_shared_history_is_attached_once_and_fed_by_the_engine() -> None:
    health = Health()
    calls = 0

    def flaky() -> bool:
        nonlocal calls
        calls += 1
        return calls % 2 == 1

    health.add(flaky)
    history = History.of(health)
    assert History.of(health) is history
    for _ in range(4):
        await health.arun()
    memory = history.get("flaky")
    assert [e.status for e in memory.entries] == [Status.PASS, Status.FAIL] * 2
    assert memory.runs == 4  # attached once: each reading counted once
    assert all(e.latency > 0 for e in memory.entries)
    assert History.of(Health()) is not history


def test_concurrent_writers_and_readers_never_break_it() -> None:
    history = History(size=50)
    errors: list[BaseException] = []

    def write(name: str) -> None:
        for second in range(2000):
            history(reading(name, Status.PASS if second % 3 else Status.FAIL, second))

    def read() -> None:
        try:
            for _ in range(2000):
                for name in history.names():
                    snapshot = history.get(name)
                    assert len(snapshot.entries) <= 50
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in ("a", "b")]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert history.get("a").runs == history.get("b").runs == 2000


def test_memory_is_flat_once_every_ring_is_full() -> None:
    """The quick twin of benchmarks/history_memory.py: 20,000 readings of 4 checks."""
    import tracemalloc

    history = History(size=50)
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        used = {}
        for i in range(1, 20_001):
            status = Status.FAIL if i % 10 == 0 else Status.PASS
            history(reading(f"c{i % 4}", status, i, latency=i / 1e6))
            if i in (5_000, 20_000):
                used[i] = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert used[20_000] <= used[5_000] * 1.05 + 4096
