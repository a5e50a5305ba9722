"""The shared directory in one process: several ``Health`` instances play a host's workers.

``flock`` locks belong to open files, so two instances in one process
compete for the lock exactly as two worker processes do (the e2e tests in
tests/e2e/test_shared_workers.py run real gunicorn and uvicorn workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.engine.shared import ENV_VAR, LOCK_FILE
from healthprobe.engine.shared_record import HostRecord, boot_id, load, publish, record_path
from healthprobe.observability import History, StatusChange, StatusChanges, render_metrics

INTERVAL = 0.1


class Counting:
    """A polled check that counts its runs and answers what ``state`` says."""

    def __init__(self, name: str = "db") -> None:
        self.name = name
        self.calls = 0
        self.state = "ok"

    async def acheck(self) -> CheckResult:
        self.calls += 1
        if self.state == "ok":
            return CheckResult.passed("fine", observed_value=1, observed_unit="rows")
        return CheckResult.failed(f"state is {self.state}")


def worker(directory: Path, check: Counting, **options: object) -> Health:
    health = Health(shared_dir=directory, **options)  # type: ignore[arg-type]
    health.add(check, interval=INTERVAL, timeout=1.0)
    return health


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> float:
    began = time.monotonic()
    while not predicate():
        if time.monotonic() - began > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - began


@contextlib.asynccontextmanager
async def started(*healths: Health) -> AsyncIterator[None]:
    for health in healths:
        await health.astart()
    try:
        yield
    finally:
        for health in healths:
            await health.astop()


def leader_of(*healths: Health) -> Health:
    (leader,) = [h for h in healths if h.shared is not None and h.shared.leading]
    return leader


@pytest.mark.asyncio
async def test_one_worker_polls_and_every_worker_serves_its_readings(tmp_path: Path) -> None:
    checks = [Counting() for _ in range(3)]
    workers = [worker(tmp_path, check) for check in checks]
    async with started(*workers):
        await wait_until(lambda: any(h.shared and h.shared.leading for h in workers))
        leader = leader_of(*workers)
        for health in workers:
            await wait_until(lambda h=health: h.latest("ready").status is Status.PASS)  # type: ignore[misc]
        await asyncio.sleep(10 * INTERVAL)
        polled = [check.calls for check in checks]
        assert sum(1 for calls in polled if calls) == 1, polled  # one poller for the host
        for health in workers:
            report = await health.arun("ready")
            assert report.status is Status.PASS
            result = report.checks["db"].result
            assert (result.output, result.observed_value, result.observed_unit) == (
                "fine",
                1,
                "rows",
            )
        pid = int((tmp_path / LOCK_FILE).read_text())
        assert pid == os.getpid()
        assert leader.shared is not None
        assert leader.shared.directory == str(tmp_path)
    assert not any(h.shared and h.shared.leading for h in workers)


@pytest.mark.asyncio
async def test_another_worker_takes_over_within_interval_plus_timeout(tmp_path: Path) -> None:
    checks = [Counting() for _ in range(2)]
    workers = [worker(tmp_path, check) for check in checks]
    async with started(*workers):
        await wait_until(lambda: any(h.shared and h.shared.leading for h in workers))
        leader = leader_of(*workers)
        follower = next(h for h in workers if h is not leader)
        follower_check = checks[workers.index(follower)]
        assert follower_check.calls == 0
        History.of(follower)
        await wait_until(lambda: History.of(follower).get("db").runs >= 3)
        runs = History.of(follower).get("db").runs
        await leader.astop()  # the lock is released, as the kernel does for a dead leader
        taken = await wait_until(lambda: follower_check.calls > 0)
        # interval + timeout, with room for a loaded machine
        assert taken < INTERVAL + 1.0 + 2.0
        assert follower.shared is not None
        assert follower.shared.leading
        assert (await follower.arun("ready")).status is Status.PASS
        # The host's counters go on from the last published reading.
        await wait_until(lambda: History.of(follower).get("db").runs > runs)
        record = load(record_path(str(tmp_path), "db"), "db", boot_id())
        assert record is not None
        assert record.runs > runs  # not restarted at 1 by the new leader


@pytest.mark.asyncio
async def test_a_reading_past_max_staleness_is_unknown_never_a_stale_pass(
    tmp_path: Path,
) -> None:
    # The test holds the lock itself: a leader that published once, then hung.
    fd = os.open(tmp_path / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        now = dt.datetime.now(dt.timezone.utc)
        record = HostRecord.empty("db").followed_by(
            CheckResult(Status.PASS, latency=0.01, time=now), at=time.monotonic(), pid=1
        )
        publish(str(tmp_path), record, boot_id())
        check = Counting()
        health = Health(shared_dir=tmp_path)
        health.add(check, interval=INTERVAL, timeout=0.2, max_staleness=0.5)
        async with started(health):
            await wait_until(lambda: health.latest("ready").status is Status.PASS)
            waited = await wait_until(
                lambda: health.latest("ready").status is Status.UNKNOWN, timeout=3.0
            )
            assert waited < 1.5
            stale = (await health.arun("ready")).checks["db"].result
            assert stale.output.startswith("stale:")
            assert stale.details["stale_status"] == "pass"
            assert not (await health.arun("ready")).ok
            assert check.calls == 0  # a follower never polls, not even on demand
    finally:
        os.close(fd)


@pytest.mark.asyncio
async def test_process_local_and_on_request_checks_stay_per_worker(tmp_path: Path) -> None:
    healths: list[Health] = []
    counters: list[tuple[Counting, Counting, Counting]] = []
    for _ in range(2):
        shared, lag, named = Counting("db"), Counting("lag"), Counting("mine")
        lag.process_local = True  # type: ignore[attr-defined]
        health = Health(shared_dir=tmp_path, process_local=["mine"])
        health.add(shared, interval=INTERVAL)
        health.add(lag, interval=INTERVAL)
        health.add(named, interval=INTERVAL)
        health.add(Counting("on_request"))
        healths.append(health)
        counters.append((shared, lag, named))
    async with started(*healths):
        await asyncio.sleep(8 * INTERVAL)
        for health in healths:
            await health.arun("ready")
        for _shared, lag, named in counters:
            assert lag.calls > 0
            assert named.calls > 0
        assert sum(1 for shared, _, _ in counters if shared.calls) == 1
        assert all(h.executions("on_request") == 1 for h in healths)


@pytest.mark.asyncio
async def test_one_picture_per_host_and_changes_reported_by_the_leader_only(
    tmp_path: Path,
) -> None:
    checks = [Counting() for _ in range(3)]
    workers = [worker(tmp_path, check) for check in checks]
    seen: dict[int, list[StatusChange]] = {}
    for index, health in enumerate(workers):
        History.of(health)
        changes: list[StatusChange] = []
        seen[index] = changes
        StatusChanges.of(health).subscribe(changes.append, scopes=("check",))
    async with started(*workers):
        await wait_until(lambda: all(h.latest().status is Status.PASS for h in workers))
        leader = leader_of(*workers)
        for check in checks:
            check.state = "down"
        await wait_until(lambda: all(h.latest().status is Status.FAIL for h in workers))
        for check in checks:
            check.state = "ok"
        await wait_until(lambda: all(h.latest().status is Status.PASS for h in workers))
        await asyncio.sleep(3 * INTERVAL)
        events = {index: [c.event for c in changes] for index, changes in seen.items()}
        leading = workers.index(leader)
        assert events[leading] == ["failed", "recovered"]
        assert all(not events[i] for i in events if i != leading), events
        # A late worker (a restarted gunicorn worker) gets the whole picture too.
        late = worker(tmp_path, Counting())
        History.of(late)
        workers.append(late)
        async with started(late):
            await wait_until(lambda: late.latest().status is Status.PASS)
            # Between two readings every worker shows the same series and history.
            await wait_until(lambda: len({_check_series(render_metrics(h)) for h in workers}) == 1)
            await wait_until(lambda: _same(History.of(h).get("db") for h in workers))
            texts = {_check_series(render_metrics(h)) for h in workers}
            picture = History.of(late).get("db")
        assert len(texts) == 1, texts
        assert picture.failures >= 1
        assert picture.runs == len(picture.entries) >= 3
        assert picture.last_failure is not None
        assert picture.last_failure.output == "state is down"


def _same(items: Iterable[object]) -> bool:
    first, *rest = list(items)
    return all(item == first for item in rest)


def _check_series(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.startswith("healthprobe_check"))


@pytest.mark.asyncio
async def test_the_environment_variable_turns_sharing_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "made"))
    health = worker(tmp_path / "ignored", Counting())  # the option wins over the variable
    assert health.shared is not None
    assert health.shared.directory == str(tmp_path / "ignored")
    from_env = Health()
    assert from_env.shared is not None
    assert from_env.shared.directory == str(tmp_path / "made")
    assert (tmp_path / "made").is_dir()
    monkeypatch.delenv(ENV_VAR)
    plain = Health(process_local=["db"])
    plain.add(Counting(), interval=INTERVAL)
    assert plain.shared is None
    async with started(plain):
        await wait_until(lambda: plain.latest().status is Status.PASS)
    assert plain.executions("db") >= 1


def test_a_bad_shared_directory_names_the_option(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    for bad in (blocker / "sub", 42, ""):
        with pytest.raises(ConfigurationError, match="shared_dir"):
            Health(shared_dir=bad)  # type: ignore[arg-type]


def test_a_record_survives_the_round_trip_and_foreign_files_are_ignored(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    failing = CheckResult(
        Status.FAIL,
        "refused",
        details={"attempts": 3, "nested": {"a": [1, "b"]}},
        observed_value=2.5,
        observed_unit="ms",
        component_type="datastore",
        latency=0.25,
        time=now,
    )
    record = HostRecord.empty("db.v2").followed_by(failing, at=12.5, pid=7)
    record = record.followed_by(CheckResult(Status.PASS, latency=0.1, time=now), at=13.0, pid=7)
    publish(str(tmp_path), record, "boot-a")
    path = record_path(str(tmp_path), "db.v2")
    assert load(path, "db.v2", "boot-a") == record
    assert (record.runs, record.failures, record.seq) == (2, 1, 2)
    assert record.last_failure == failing
    assert record.last_success == now
    assert load(path, "db.v2", "boot-b") is None  # another boot: another clock
    assert load(path, "other", "boot-a") is None
    Path(path).write_text(json.dumps({"format": 99}))
    assert load(path, "db.v2", "boot-a") is None
    Path(path).write_text("{not json")
    assert load(path, "db.v2", "boot-a") is None
    assert [p.name for p in tmp_path.iterdir()] == ["check.db.v2.json"]  # no temp file left


@pytest.mark.asyncio
async def test_a_takeover_polls_when_the_next_reading_was_due(tmp_path: Path) -> None:
    # A leader that published one reading 0.2 s ago, then died (the lock is free).
    record = HostRecord.empty("db").followed_by(
        CheckResult(Status.PASS, latency=0.01, time=dt.datetime.now(dt.timezone.utc)),
        at=time.monotonic() - 0.2,
        pid=1,
    )
    publish(str(tmp_path), record, boot_id())
    check = Counting()
    health = Health(shared_dir=tmp_path)  # jitter on: a first poll could wait a whole interval
    health.add(check, interval=2.0, timeout=1.0)
    History.of(health)
    began = time.monotonic()
    async with started(health):
        await wait_until(lambda: check.calls > 0)
        waited = time.monotonic() - began
        assert 1.5 <= waited < 1.8 + 1.0  # due at 2.0 - 0.2 s from the start, not at random
        await wait_until(lambda: History.of(health).get("db").runs == 2)  # the host's 2nd
