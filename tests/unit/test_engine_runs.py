"""Runs of a check: abandoned calls are joined, closing is bounded, one run per TTL, kept threads.

Issues 17.6-17.8, 13.11 and 14.1: each test here failed on ``eda6039``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import subprocess
import sys
import threading
import time

import pytest

from healthprobe import CheckResult, Health, Report, Status
from healthprobe.engine.report import CheckReport

pytestmark = pytest.mark.timeout(60)


def stubborn_tasks(name: str) -> list[asyncio.Task[object]]:
    """The live tasks running check ``name`` on this loop."""
    return [
        t for t in asyncio.all_tasks() if t.get_name() == f"healthprobe:{name}" and not t.done()
    ]


def threads_named(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"healthprobe:{name}" and t.is_alive()]


# -- 17.7: an abandoned async check is joined, not started again ------------------


@pytest.mark.asyncio
async def test_thirty_probes_of_a_check_that_swallows_cancellation_leave_one_task() -> None:
    health = Health()
    calls = 0
    release = False

    @health.check(timeout=0.1)
    async def stubborn() -> bool:
        nonlocal calls
        calls += 1
        while not release:
            try:
                await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                continue  # refuses to stop
        return True

    outputs = []
    for _ in range(30):
        report = await health.arun()
        outputs.append(report.checks["stubborn"].result.output)
        assert len(stubborn_tasks("stubborn")) <= 1  # 30 on eda6039
    assert calls == 1  # one call of the check for 30 runs...
    assert health.executions("stubborn") == 30  # ...which each gave a reading
    assert outputs[0] == "timed out after 0.1 s"
    assert set(outputs[1:]) == {"timed out after 0.1 s (the previous run is still in progress)"}
    release = True
    # The joined call ends: its result is the next reading, then runs call anew.
    assert (await health.arun()).status is Status.PASS
    assert calls == 1
    assert (await health.arun()).status is Status.PASS
    assert calls == 2
    assert stubborn_tasks("stubborn") == []


@pytest.mark.asyncio
async def test_a_joined_async_call_that_ends_in_time_gives_its_result() -> None:
    health = Health()
    calls = 0

    @health.check(timeout=0.2)
    async def late() -> tuple[bool, str]:
        nonlocal calls
        calls += 1
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)  # cleans up after the cancellation, then answers
        return True, "answered late"

    first = await health.arun()
    assert first.checks["late"].result.output == "timed out after 0.2 s"
    second = await health.arun()
    assert second.checks["late"].result.output == "answered late"
    assert calls == 1


@pytest.mark.asyncio
async def test_an_abandoned_call_that_gives_up_later_is_called_anew() -> None:
    health = Health()
    calls = 0

    @health.check(timeout=0.15)
    async def twice() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                await asyncio.sleep(0.05)  # swallows the first cancellation for a while...
                raise  # ...then honours it
        return True

    assert (await health.arun()).status is Status.FAIL  # abandoned at 0.15 s
    # Joins the abandoned call, which ends cancelled 0.05 s later: this run
    # calls the check itself in the time left.
    report = await health.arun()
    assert report.status is Status.PASS
    assert calls == 2


# -- 17.6: closing is bounded and quiet -----------------------------------------------


def test_stop_is_bounded_and_quiet_when_a_check_swallows_its_cancellation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = Health()
    release = threading.Event()

    @health.check(timeout=0.5)
    async def stubborn() -> bool:
        while not release.is_set():
            try:
                await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                continue
        return True

    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    report = health.run()
    assert report.checks["stubborn"].result.output == "timed out after 0.5 s"
    engine = health._bridge.engine
    assert engine is not None
    health.stop()  # raised TimeoutError after 5 s on eda6039
    assert time.monotonic() - started < 0.5 + 1.5
    release.set()
    # The engine loop ends (and closes) by itself once the abandoned call does.
    engine.thread.join(5)
    assert not engine.thread.is_alive()
    assert engine.loop.is_closed()
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert noisy == []


# -- 17.8: at most one run per cache TTL, whatever the load ----------------------------


def test_a_cache_ttl_allows_one_run_per_window_under_concurrent_arun_and_run() -> None:
    health = Health()
    starts: list[float] = []
    ttl = 0.2

    @health.check(cache_ttl=ttl)
    async def cached() -> bool:
        starts.append(time.monotonic())
        await asyncio.sleep(0.005)
        return True

    stop_at = time.monotonic() + 1.5
    errors: list[BaseException] = []

    def hammer_with_run() -> None:  # run() from threads: the engine loop
        try:
            while time.monotonic() < stop_at:
                assert health.run().status is Status.PASS
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    async def hammer_with_arun() -> None:  # arun() from this loop, 64 at a time
        while time.monotonic() < stop_at:
            reports = await asyncio.gather(*(health.arun() for _ in range(64)))
            assert {r.status for r in reports} == {Status.PASS}
            await asyncio.sleep(0)

    threads = [threading.Thread(target=hammer_with_run) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        asyncio.run(hammer_with_arun())
    finally:
        for thread in threads:
            thread.join(10)
        health.stop()
    assert errors == []
    assert health.executions("cached") == len(starts)
    assert len(starts) >= 3  # the windows did pass: the check ran again after each
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= ttl, f"two runs {min(gaps) * 1000:.1f} ms apart"


@pytest.mark.asyncio
async def test_a_run_from_a_thread_joins_the_run_in_flight_on_the_apps_loop() -> None:
    # health.run() from a thread runs on the engine loop, arun() on the app's:
    # two loops, still one run of the check (two on eda6039).
    health = Health()

    @health.check(cache_ttl=30)
    async def cached() -> bool:
        await asyncio.sleep(0.2)
        return True

    in_flight = asyncio.ensure_future(health.arun())
    await asyncio.sleep(0.05)  # the app loop's run is in flight
    from_threads = await asyncio.gather(*(asyncio.to_thread(health.run) for _ in range(4)))
    assert {r.status for r in from_threads} == {Status.PASS}
    assert (await in_flight).status is Status.PASS
    assert health.executions("cached") == 1
    await asyncio.to_thread(health.stop)


# -- 13.11: a polled check's first probe -----------------------------------------------


@pytest.mark.asyncio
async def test_a_probe_before_the_first_poll_joins_the_pollers_run() -> None:
    health = Health()
    calls = 0

    @health.check(interval=30, timeout=2)
    async def polled() -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return True

    async with health:
        await asyncio.sleep(0.05)  # the poller's first run is in flight
        reports = await asyncio.gather(*(health.arun("ready") for _ in range(10)))
        assert {r.status for r in reports} == {Status.PASS}
        assert calls == 1  # the probes joined the poller's run


@pytest.mark.asyncio
async def test_a_first_poll_cut_by_the_deadline_reads_unknown_not_failed() -> None:
    health = Health(deadline=0.1)

    @health.check(interval=30, timeout=2)
    async def slow_start() -> bool:
        await asyncio.sleep(0.4)
        return True

    async with health:
        report = await health.arun("ready")
        result = report.checks["slow_start"].result
        assert result.status is Status.UNKNOWN
        assert result.output == "no result yet"
        assert report.verdict is Status.FAIL  # readiness: not ready until it knows
        live = await health.arun("live")
        assert live.verdict is Status.PASS
        await asyncio.sleep(0.5)
        assert (await health.arun("ready")).status is Status.PASS


# -- 14.1: a sync check keeps its thread -----------------------------------------------


@pytest.mark.asyncio
async def test_a_sync_check_runs_in_the_same_thread_and_keeps_its_thread_locals() -> None:
    health = Health()
    local = threading.local()
    seen: list[int] = []
    connections: list[object] = []

    @health.check
    def uses_a_thread_local() -> bool:
        seen.append(threading.get_ident())
        if not hasattr(local, "connection"):
            local.connection = object()  # a driver's per-thread connection
            connections.append(local.connection)
        return True

    for _ in range(20):
        assert (await health.arun()).status is Status.PASS
    await asyncio.to_thread(health.run)  # from the engine loop too
    assert len(set(seen)) == 1
    assert len(connections) == 1
    assert threads_named("uses_a_thread_local")[0].daemon
    await health.astop()
    await asyncio.sleep(0.1)
    assert threads_named("uses_a_thread_local") == []  # stop() ends it
    await asyncio.to_thread(health.stop)


@pytest.mark.asyncio
async def test_a_hung_sync_check_costs_one_thread_and_close_waits_for_no_one() -> None:
    gate = threading.Event()
    closed: list[int] = []

    class Hung:
        name = "hung"
        timeout = 0.1

        def check(self) -> bool:
            gate.wait(30)
            return True

        def close(self) -> None:
            closed.append(threading.get_ident())

    health = Health()
    health.add(Hung())
    for _ in range(10):
        report = await health.arun()
        assert report.status is Status.FAIL
        assert len(threads_named("hung")) == 1
    started = time.monotonic()
    await health.astop()  # close() runs in a thread of its own: the kept one is stuck
    assert time.monotonic() - started < 1.0
    assert closed
    assert closed[0] != threads_named("hung")[0].ident
    gate.set()


@pytest.mark.timeout(30)
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own_kept_thread() -> None:
    health = Health()
    idents: list[int] = []

    @health.check
    def where() -> CheckResult:
        return CheckResult.passed(str(threading.get_ident()))

    parent = health.run().checks["where"].result.output
    idents.append(int(parent))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            result = health.run(deadline=2).checks["where"].result
            os.write(write, f"{result.status.value} {result.output}".encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    out = os.read(read, 100).decode().split()
    os.close(read)
    assert os.WEXITSTATUS(status) == 0
    assert out[0] == "pass"  # the child did not wait on the parent's (absent) thread
    health.stop()


@pytest.mark.asyncio
async def test_a_reading_is_a_complete_check_result() -> None:
    # The engine fills readings, entries and reports directly (runtime.built):
    # each must be what the dataclass's own constructor would make.
    health = Health()
    health.add(
        lambda: CheckResult.warned("slow", details={"ms": 9}, observed_value=9, observed_unit="ms"),
        name="full",
        component_type="datastore",
    )
    report = await health.arun()
    for made, cls in ((report, Report), (report.checks["full"], CheckReport)):
        names = {f.name for f in dataclasses.fields(cls)}
        assert set(vars(made)) == names
        assert made == cls(**{name: getattr(made, name) for name in names})
    result = report.checks["full"].result
    fields = {f.name for f in dataclasses.fields(CheckResult)}
    assert set(vars(result)) == fields
    assert result == CheckResult(**{name: getattr(result, name) for name in fields})
    assert (result.status, result.output, result.details) == (Status.WARN, "slow", {"ms": 9})
    assert (result.observed_value, result.observed_unit) == (9, "ms")
    assert result.component_type == "datastore"
    assert result.latency is not None
    assert result.time is not None


@pytest.mark.timeout(30)
def test_a_hung_sync_check_does_not_keep_the_process_alive() -> None:
    # The kept thread is a daemon: a process whose check hangs still exits.
    script = (
        "import time\n"
        "from healthprobe import Health\n"
        "health = Health()\n"
        "health.add(lambda: time.sleep(1000), name='hung', timeout=0.2)\n"
        "print(health.run().checks['hung'].result.output, flush=True)\n"
    )
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    env = {**os.environ, "PYTHONPATH": os.path.abspath(src)}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=20,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "timed out after 0.2 s"
    assert time.monotonic() - started < 10
