"""What a report says: conventions end to end, criticality, probes, exclusion, sync entry."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest

from healthprobe import CheckResult, Health, Reading, Report, Status

SECRET_DSN = "postgresql://app:S3cret@db.internal:5432/app"


async def async_false() -> bool:
    await asyncio.sleep(0)
    return False


def everything_in(report: Report) -> str:
    return repr(report) + "".join(
        repr(c.result.details) + c.result.output for c in report.checks.values()
    )


@pytest.mark.asyncio
async def test_every_kind_of_check_is_called_and_read() -> None:
    class SyncObject:
        def check(self) -> tuple[bool, str]:
            return False, "sync object says no"

    class AsyncObject:
        async def acheck(self) -> dict[str, Any]:
            return {"status": "warn", "output": "async object is slow", "ms": 900}

    class AsyncCallable:
        async def __call__(self) -> CheckResult:
            return CheckResult.passed(observed_value=3, observed_unit="connections")

    health = Health()
    health.add(SyncObject(), name="sync_object")
    health.add(AsyncObject(), name="async_object")
    health.add(AsyncCallable(), name="async_callable")
    health.add(lambda: async_false(), name="lambda_around_async")  # noqa: PLW0108 - the lambda is the point
    health.add(lambda: None, name="sync_lambda")

    def raises() -> None:
        raise RuntimeError("boom")

    health.add(raises)
    report = await health.arun()
    got = {name: (c.status, c.result.output) for name, c in report.checks.items()}
    assert got == {
        "sync_object": (Status.FAIL, "sync object says no"),
        "async_object": (Status.WARN, "async object is slow"),
        "async_callable": (Status.PASS, ""),
        "lambda_around_async": (Status.FAIL, ""),  # awaited, never silently dropped
        "sync_lambda": (Status.PASS, ""),
        "raises": (Status.FAIL, "RuntimeError: boom"),
    }
    assert report.checks["async_object"].result.details == {"ms": 900}
    callable_result = report.checks["async_callable"].result
    assert (callable_result.observed_value, callable_result.observed_unit) == (3, "connections")
    for entry in report.checks.values():
        assert entry.result.latency is not None
        assert entry.result.latency >= 0
        assert entry.result.time is not None
        assert entry.result.time.tzinfo is not None


@pytest.mark.asyncio
async def test_a_secret_in_an_exception_never_reaches_a_result() -> None:
    health = Health()

    @health.check
    async def database() -> None:
        raise ConnectionError(f"could not connect to {SECRET_DSN}: password authentication failed")

    @health.check
    def sync_database() -> CheckResult:
        return CheckResult.failed(
            f"refused by {SECRET_DSN}", details={"dsn": SECRET_DSN, "hint": "password=S3cret"}
        )

    @health.check
    def returns_dict() -> dict[str, Any]:
        return {"status": "down", "url": SECRET_DSN, "nested": [{"dsn": SECRET_DSN}]}

    report = await health.arun()
    assert report.status is Status.FAIL
    text = everything_in(report)
    assert "S3cret" not in text
    assert "db.internal" not in text
    assert "ConnectionError: could not connect to postgresql://***@***/app" in text


@pytest.mark.asyncio
async def test_declared_secrets_are_scrubbed_wherever_they_appear() -> None:
    health = Health()

    @health.check(secrets=["cache-7.prod.internal"])
    def cache() -> tuple[bool, str]:
        return False, "no answer from cache-7.prod.internal:6379"

    report = await health.arun()
    assert report.checks["cache"].result.output == "no answer from ***:6379"


@pytest.mark.asyncio
async def test_a_non_critical_failure_degrades_without_failing() -> None:
    health = Health()
    health.add(lambda: True, name="database")
    health.add(lambda: False, name="recommendations", critical=False)
    report = await health.arun("ready")
    assert report.status is Status.WARN
    assert report.verdict is Status.WARN
    assert report.ok
    assert report.checks["recommendations"].status is Status.FAIL  # its own status is kept


@pytest.mark.asyncio
async def test_probes_select_their_checks() -> None:
    health = Health(groups=["deep"])
    health.add(lambda: True, name="db", probes=["ready", "deep"])
    health.add(lambda: False, name="warmup", probes=["startup"])
    health.add(lambda: True, name="ext", probes=["deep"])
    assert list((await health.arun("ready")).checks) == ["db"]
    assert list((await health.arun("deep")).checks) == ["db", "ext"]
    assert (await health.arun("startup")).verdict is Status.FAIL
    live = await health.arun("live")
    assert (live.checks, live.status, live.verdict) == ({}, Status.PASS, Status.PASS)
    assert list((await health.arun()).checks) == ["db", "warmup", "ext"]


@pytest.mark.asyncio
async def test_unknown_resolution_is_per_probe_and_configurable() -> None:
    health = Health(unknown_passes=["live", "ready"])
    health.add(
        lambda: CheckResult.unknown("warming up"),
        name="polled",
        interval=60,
        probes=["ready", "live", "startup"],
    )
    await health.astart()
    try:
        assert (await health.arun("ready")).verdict is Status.PASS
        assert (await health.arun("startup")).verdict is Status.FAIL
    finally:
        await health.astop()


@pytest.mark.asyncio
async def test_exclude_skips_checks_and_reports_unmatched_names() -> None:
    health = Health()
    calls: list[str] = []

    def a() -> bool:
        calls.append("a")
        return True

    def b() -> bool:
        calls.append("b")
        return False

    health.add(a)
    health.add(b)
    report = await health.arun("ready", exclude=["b", "zzz", "b"])
    assert list(report.checks) == ["a"]
    assert report.excluded == ("b",)
    assert report.unmatched_excludes == ("zzz",)
    assert calls == ["a"]
    only = await health.arun("ready", only="b")
    assert list(only.checks) == ["b"]
    assert only.status is Status.FAIL


def test_run_works_from_sync_code_with_async_checks() -> None:
    health = Health()
    calls = 0

    @health.check
    async def database() -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        return True

    results: list[Report] = []
    threads = [threading.Thread(target=lambda: results.append(health.run())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert [r.status for r in results] == [Status.PASS] * 8
    assert calls == 1  # eight threads, one shared run on the engine loop
    health.stop()


def test_start_and_stop_poll_from_sync_code() -> None:
    health = Health()
    health.add(lambda: True, name="polled", interval=0.05)
    with health:
        assert health.run().checks["polled"].status in (Status.PASS, Status.UNKNOWN)
        threading.Event().wait(0.2)
        assert health.run().status is Status.PASS
        assert health.latest().status is Status.PASS
        engine = health._bridge.engine
        assert engine is not None
    # This instance's engine thread ended (other tests' instances may still have theirs).
    assert not engine.thread.is_alive()


@pytest.mark.asyncio
async def test_run_refuses_to_block_a_running_loop() -> None:
    health = Health()
    with pytest.raises(RuntimeError, match=r"use 'await health\.arun\(\)'"):
        health.run()


@pytest.mark.asyncio
async def test_latest_reads_without_running() -> None:
    health = Health()
    health.add(lambda: True, name="db")
    before = health.latest("ready")
    assert before.status is Status.UNKNOWN
    assert before.verdict is Status.FAIL
    assert health.executions("db") == 0
    await health.arun()
    assert health.latest("ready").status is Status.PASS
    assert health.executions("db") == 1


@pytest.mark.asyncio
async def test_checks_added_while_polling_start_polling() -> None:
    health = Health()
    async with health:
        health.add(lambda: True, name="late", interval=0.05)
        await asyncio.sleep(0.2)
        assert health.latest().checks["late"].status is Status.PASS


@pytest.mark.asyncio
async def test_listeners_see_every_new_reading_but_not_served_ones() -> None:
    health = Health()
    seen: list[tuple[str, Status | None, Status]] = []
    outcomes = iter([True, False])

    def listener(reading: Reading) -> None:
        previous = reading.previous.status if reading.previous else None
        seen.append((reading.name, previous, reading.current.status))

    def broken(reading: Reading) -> None:
        raise ValueError("listener bug")

    health.add_listener(broken)
    health.add_listener(listener)
    health.add(lambda: next(outcomes), name="db")
    health.add(lambda: True, name="cached", cache_ttl=60)
    await health.arun()
    await health.arun()
    # The first two readings come from two threads: in either order.
    assert sorted(seen[:2], key=lambda entry: entry[0]) == [
        ("cached", None, Status.PASS),
        ("db", None, Status.PASS),
    ]
    assert seen[2:] == [("db", Status.PASS, Status.FAIL)]
    health.remove_listener(listener)
    health.remove_listener(listener)  # twice is harmless
    assert (await health.arun()).checks["db"].status is Status.FAIL  # StopIteration -> fail
    assert len(seen) == 3


@pytest.mark.timeout(30)
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads running
def test_a_forked_child_polls_and_runs_on_its_own() -> None:
    health = Health()
    health.add(lambda: True, name="polled", interval=0.05)
    health.start()  # the parent polls on its engine thread (gunicorn --preload)
    try:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: must not hand work to the parent's dead loop
            try:
                report = health.run(deadline=2)
                health.start()
                threading.Event().wait(0.2)
                polled = health.latest().status
                health.stop()
                os.write(write, f"{report.status.value} {polled.value}".encode())
            finally:
                os._exit(0)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        out = os.read(read, 100).decode()
        os.close(read)
        assert os.WEXITSTATUS(status) == 0
        assert out == "pass pass"
    finally:
        health.stop()
