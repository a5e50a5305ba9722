"""Pushed status: heartbeats with a deadline, reported status, recovery grace, heartbeat files.

Most tests read a check at a chosen monotonic time (``read(check, now)`` is
pure), so the semantics are tested without sleeping; the few that go
through the engine in real time use deadlines far above what they wait for.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from healthprobe import ConfigurationError, Health, Heartbeat, Reported, Status, UnknownCheckError
from healthprobe.engine.heartbeat import read


def later(seconds: float) -> float:
    return time.monotonic() + seconds


def test_before_the_first_beat_it_is_unknown_then_fails_after_the_grace() -> None:
    beat = Heartbeat("consumer", max_age=30)
    assert read(beat, later(0)).status is Status.UNKNOWN
    assert read(beat, later(29)).status is Status.UNKNOWN
    late = read(beat, later(31))
    assert late.status is Status.FAIL
    assert "no beat since start" in late.output


def test_the_grace_can_differ_from_max_age() -> None:
    beat = Heartbeat("consumer", max_age=5, grace=60)
    assert read(beat, later(30)).status is Status.UNKNOWN
    assert read(beat, later(61)).status is Status.FAIL


def test_a_beat_passes_until_max_age_then_silence_fails() -> None:
    beat = Heartbeat("consumer", max_age=30)
    beat.beat()
    fresh = read(beat, later(1))
    assert fresh.status is Status.PASS
    assert fresh.observed_unit == "s"
    assert read(beat, later(29)).status is Status.PASS
    silent = read(beat, later(31))
    assert silent.status is Status.FAIL
    assert silent.output.startswith("no beat for")
    assert "max_age 30 s" in silent.output


def test_an_explicit_failing_beat_fails_at_once_with_its_reason() -> None:
    beat = Heartbeat("consumer", max_age=30)
    beat.beat()
    beat.beat(ok=False, reason="broker connection lost")
    now = read(beat, later(0))
    assert now.status is Status.FAIL
    assert now.output == "broker connection lost"  # a reported failure, not silence
    beat.beat()
    assert read(beat, later(0)).status is Status.PASS


def test_a_failing_beat_without_a_reason_says_so() -> None:
    beat = Heartbeat("consumer", max_age=30)
    beat.beat(ok=False)
    assert read(beat, later(0)).output == "reported failing"


def test_a_recoverable_failure_reads_healthy_until_it_has_lasted_recover_after() -> None:
    beat = Heartbeat("consumer", max_age=300, recover_after=20)
    beat.beat(ok=False, reason="reconnecting")
    early = read(beat, later(5))
    assert early.status is Status.PASS
    assert early.details["reported_status"] == "fail"
    assert "reconnecting" in early.output
    # The streak counts from its first failure, not from the latest report.
    beat.beat(ok=False, reason="still reconnecting")
    assert read(beat, later(21)).status is Status.FAIL
    # A pass ends the streak: the next failure has its grace again.
    beat.beat()
    beat.beat(ok=False, reason="again")
    assert read(beat, later(5)).status is Status.PASS


def test_a_failure_reported_as_not_recoverable_skips_the_grace() -> None:
    component = Reported("consumer", recover_after=60)
    component.report(Status.FAIL, "credentials rejected", recoverable=False)
    assert read(component, later(0)).status is Status.FAIL


def test_a_paused_heartbeat_passes_without_a_deadline_until_the_next_beat() -> None:
    beat = Heartbeat("consumer", max_age=30)
    beat.beat()
    beat.pause("reconnecting to the broker")
    paused = read(beat, later(3600))
    assert paused.status is Status.PASS
    assert paused.output == "paused: reconnecting to the broker"
    beat.beat()  # resumes: the deadline applies again
    assert read(beat, later(31)).status is Status.FAIL


def test_reported_status_has_no_deadline_and_takes_status_words() -> None:
    component = Reported("consumer")
    assert read(component, later(10_000)).status is Status.UNKNOWN  # no grace: waits forever
    component.report("degraded", "one of three partitions lagging")
    assert read(component, later(10_000)).status is Status.WARN
    component.report("ok")
    assert read(component, later(10_000)).status is Status.PASS
    with pytest.raises(ValueError, match="unrecognized status"):
        component.report("fine-ish")


def test_reported_with_a_grace_fails_when_no_report_ever_came() -> None:
    assert read(Reported("consumer", grace=10), later(11)).status is Status.FAIL


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"max_age": 0}, "max_age must be a positive number"),
        ({"max_age": -1}, "max_age must be a positive number"),
        ({"max_age": float("inf")}, "max_age must be a positive number"),
        ({"max_age": True}, "max_age must be a positive number"),
        ({"max_age": 5, "grace": 0}, "grace must be a positive number"),
        ({"max_age": 5, "recover_after": "1"}, "recover_after must be a positive number"),
        ({"max_age": None}, "needs max_age"),
    ],
)
def test_bad_options_name_the_check(options: dict[str, object], text: str) -> None:
    with pytest.raises(ConfigurationError, match=text) as caught:
        Heartbeat("consumer", **options)  # type: ignore[arg-type]  # bad values on purpose
    assert "'consumer'" in str(caught.value)


@pytest.mark.asyncio
async def test_health_beat_feeds_the_registered_heartbeat_in_real_time() -> None:
    health = Health()
    health.add(Heartbeat("consumer", max_age=0.5, grace=30), probes=("live", "ready"))
    assert (await health.arun("live")).verdict is Status.PASS  # unknown passes liveness
    assert (await health.arun("ready")).verdict is Status.FAIL  # ...but not readiness
    await health.abeat("consumer")
    assert (await health.arun("live")).verdict is Status.PASS
    assert (await health.arun("ready")).verdict is Status.PASS
    deadline = time.monotonic() + 20
    while (await health.arun("live")).verdict is Status.PASS:
        assert time.monotonic() < deadline, "silence never failed the heartbeat"
        await asyncio.sleep(0.05)
    report = await health.arun("live")
    assert report.checks["consumer"].result.output.startswith("no beat for")
    health.beat("consumer")
    assert (await health.arun("live")).verdict is Status.PASS


@pytest.mark.asyncio
async def test_health_report_and_an_unknown_name() -> None:
    health = Health()
    health.add(Reported("consumer"))
    health.report("consumer", Status.FAIL, "reconnecting to the broker")
    report = await health.arun("ready")
    assert report.checks["consumer"].result.output == "reconnecting to the broker"
    with pytest.raises(UnknownCheckError):
        health.beat("consumr")
    health.add(lambda: True, name="plain")
    with pytest.raises(UnknownCheckError):
        health.beat("plain")  # not a pushed check


def test_a_check_added_under_another_name_beats_under_that_name() -> None:
    health = Health()
    beat = health.add(Heartbeat("consumer", max_age=30), name="orders")
    health.beat("orders")
    assert beat.beats == 1


def test_beats_from_many_threads_are_all_counted_and_cheap() -> None:
    health = Health()
    beat = health.add(Heartbeat("consumer", max_age=30))
    per_thread, threads = 20_000, 4

    def work() -> None:
        for _ in range(per_thread):
            health.beat("consumer")

    started = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    assert beat.beats == per_thread * threads
    assert read(beat, later(0)).status is Status.PASS
    # 80,000 beats; a generous bound (a beat costs about a microsecond).
    assert elapsed < 20


def test_the_heartbeat_file_follows_the_beats(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    beat = Heartbeat("consumer", max_age=30, file=path)
    assert not path.exists()  # no beat, no file: a file-age probe fails
    beat.beat()
    assert time.time() - path.stat().st_mtime < 10
    beat.beat(ok=False, reason="wedged")
    assert path.stat().st_mtime == 0  # failing: an ancient file, so the exec probe fails now
    beat.beat()
    assert time.time() - path.stat().st_mtime < 10  # recovered at once, despite touch_every


def test_the_heartbeat_file_is_touched_at_most_once_per_touch_every(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    beat = Heartbeat("consumer", max_age=30, file=path, touch_every=3600)
    beat.beat()
    os.utime(path, (1000, 1000))
    beat.beat()
    assert path.stat().st_mtime == 1000  # within touch_every: no second utime


def test_a_heartbeat_file_that_cannot_be_written_never_raises_into_the_worker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    beat = Heartbeat("consumer", max_age=30, file=tmp_path / "missing-dir" / "heartbeat")
    beat.beat()
    beat.beat(ok=False)
    assert beat.beats == 2
    warnings = [r for r in caplog.records if "cannot touch its file" in r.getMessage()]
    assert len(warnings) == 1
    assert "missing-dir" not in warnings[0].getMessage()  # the reason, not the path
