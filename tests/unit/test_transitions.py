"""Transition logs: one record per change of status, never one per probe; quiet while draining."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from healthprobe import CheckResult, Health
from healthprobe.observability import TransitionLog

SECRET_DSN = "postgresql://app:S3cret@db.internal:5432/app"


class Switch:
    """An async check whose outcome the test flips."""

    def __init__(self) -> None:
        self.ok = True
        self.calls = 0

    async def __call__(self) -> CheckResult:
        self.calls += 1
        if self.ok:
            return CheckResult.passed()
        raise ConnectionError(f"cannot reach {SECRET_DSN}")


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "healthprobe"]


def events(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str, int]]:
    return [
        (r.healthprobe_event, r.healthprobe_scope, r.healthprobe_name, r.levelno)  # type: ignore[attr-defined] # set through `extra`
        for r in records(caplog)
    ]


@pytest.mark.asyncio
async def test_failure_and_recovery_are_logged_once_each_with_the_outage_length(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    switch = Switch()
    health.add(switch, name="db")
    TransitionLog(health)
    await health.arun()
    assert events(caplog) == []  # a healthy start is quiet
    switch.ok = False
    for _ in range(5):
        await health.arun()
    await asyncio.sleep(0.2)
    switch.ok = True
    for _ in range(5):
        await health.arun()
    assert events(caplog) == [
        ("failed", "check", "db", logging.ERROR),
        ("failed", "overall", "health", logging.ERROR),
        ("recovered", "check", "db", logging.ERROR),
        ("recovered", "overall", "health", logging.ERROR),
    ]
    failed, _, recovered, _ = records(caplog)
    assert failed.getMessage().startswith("healthprobe: check db failed: ConnectionError")
    assert "S3cret" not in failed.getMessage()
    assert "db.internal" not in failed.getMessage()
    outage = recovered.healthprobe_outage_seconds  # type: ignore[attr-defined] # set through `extra`
    assert 0.15 <= outage < 10
    assert f"after {outage:.1f} s" in recovered.getMessage()


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_ten_thousand_probes_against_a_failing_check_log_one_failure_one_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    switch = Switch()
    health.add(switch, name="db")
    TransitionLog(health, scopes=("check",))
    switch.ok = False
    started = time.monotonic()
    for _ in range(10_000):
        report = await health.arun("ready")
        assert not report.ok
    switch.ok = True
    for _ in range(100):
        await health.arun("ready")
    assert time.monotonic() - started < 45
    assert switch.calls == 10_100  # every probe really ran the check
    assert [(e, n) for e, _, n, _ in events(caplog)] == [("failed", "db"), ("recovered", "db")]


@pytest.mark.asyncio
async def test_a_non_critical_failure_logs_a_warning_and_degrades_overall(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    switch = Switch()
    switch.ok = False
    health.add(switch, name="cache", critical=False)
    TransitionLog(health, scopes=("check", "probe", "overall"))
    await health.arun()
    assert events(caplog) == [
        ("failed", "check", "cache", logging.WARNING),
        ("degraded", "probe", "ready", logging.WARNING),
        ("degraded", "overall", "health", logging.WARNING),
    ]
    assert "(warn)" in records(caplog)[1].getMessage()


@pytest.mark.asyncio
async def test_levels_and_reasons_are_configurable(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    switch = Switch()
    switch.ok = False
    health.add(switch, name="db")
    TransitionLog(
        health, levels={"failed": logging.CRITICAL}, scopes=("check",), with_reasons=False
    )
    await health.arun()
    (record,) = records(caplog)
    assert record.levelno == logging.CRITICAL
    assert record.getMessage() == "healthprobe: check db failed"


def test_an_unknown_level_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown transition level"):
        TransitionLog(Health(), levels={"exploded": logging.ERROR})


@pytest.mark.asyncio
async def test_draining_turns_the_error_flood_into_quiet_debug_records(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    checks = {name: Switch() for name in ("db", "cache", "queue")}
    for name, check in checks.items():
        health.add(check, name=name)
    draining = False
    log = TransitionLog(health, draining=lambda: draining)
    await health.arun()
    draining = True  # shutdown begins: every dependency goes away
    for check in checks.values():
        check.ok = False
    for _ in range(20):
        await health.arun()
    got = records(caplog)
    assert len(got) == 4  # three checks and the overall status, once each
    assert all(r.levelno == logging.DEBUG for r in got)
    assert all(r.getMessage().endswith("(while draining)") for r in got)
    assert log.draining


@pytest.mark.asyncio
async def test_set_draining_is_the_flag_alternative(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="healthprobe")
    health = Health()
    switch = Switch()
    health.add(switch, name="db")
    log = TransitionLog(health)
    await health.arun()
    log.set_draining()
    assert log.draining
    switch.ok = False
    await health.arun()
    assert records(caplog) == []  # DEBUG is below the captured level: nothing at all
    log.set_draining(False)
    log.close()
    switch.ok = True
    await health.arun()
    assert records(caplog) == []  # closed: no more records


@pytest.mark.asyncio
async def test_by_default_draining_follows_the_health_lifecycle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    switch = Switch()
    health.add(switch, name="db")
    log = TransitionLog(health, scopes=("check",))
    await health.arun()
    before = log.draining
    health.lifecycle.begin_drain()  # what the HTTP layer does on SIGTERM
    assert (before, log.draining) == (False, True)
    switch.ok = False
    await health.arun()
    (record,) = records(caplog)
    assert record.levelno == logging.DEBUG


@pytest.mark.asyncio
async def test_the_shared_default_log_is_created_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    health.add(Switch(), name="db")
    log = TransitionLog.of(health)
    assert TransitionLog.of(health) is log
    log.levels["failed"] = logging.CRITICAL
    health.add(lambda: False, name="other")
    await health.arun()
    assert [(e, n, lv) for e, _, n, lv in events(caplog)] == [
        ("failed", "other", logging.CRITICAL),
        ("failed", "health", logging.CRITICAL),
    ]


@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_background_polling_logs_a_change_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    switch = Switch()
    switch.ok = False
    health.add(switch, name="db", interval=0.02)
    TransitionLog(health, scopes=("check",))
    async with health:
        for _ in range(500):  # at most 10 s
            if switch.calls >= 10:
                break
            await asyncio.sleep(0.02)
        switch.ok = True
        seen = switch.calls
        for _ in range(500):
            if switch.calls >= seen + 5:
                break
            await asyncio.sleep(0.02)
    assert switch.calls >= 15
    assert [(e, n) for e, _, n, _ in events(caplog)] == [("failed", "db"), ("recovered", "db")]


def test_sync_runs_on_the_engine_thread_are_observed_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    switch = Switch()
    switch.ok = False
    health.add(switch, name="db")
    TransitionLog(health, scopes=("check",))
    try:
        for _ in range(20):
            health.run()
        switch.ok = True
        health.run()
    finally:
        health.stop()
    assert [(e, n) for e, _, n, _ in events(caplog)] == [("failed", "db"), ("recovered", "db")]


# issue 13.12: a recovery is logged at the level its failure had, so default logging
# (WARNING and up) that showed the failure shows the recovery too.
@pytest.mark.asyncio
async def test_a_recovery_is_logged_at_the_level_of_its_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="healthprobe")  # what default logging shows
    health = Health()
    critical, optional = Switch(), Switch()
    health.add(critical, name="db")
    health.add(optional, name="cache", critical=False)
    TransitionLog(health, scopes=("check",))
    await health.arun()
    critical.ok = optional.ok = False
    await health.arun()
    critical.ok = optional.ok = True
    await health.arun()
    assert sorted(events(caplog)) == sorted(
        [
            ("failed", "check", "db", logging.ERROR),
            ("failed", "check", "cache", logging.WARNING),
            ("recovered", "check", "db", logging.ERROR),
            ("recovered", "check", "cache", logging.WARNING),
        ]
    )


@pytest.mark.asyncio
async def test_a_recovery_after_a_worsening_outage_takes_its_worst_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    state = {"now": CheckResult.passed()}

    async def db() -> CheckResult:
        return state["now"]

    health.add(db, name="db")
    TransitionLog(health, scopes=("check",))
    await health.arun()
    for result in (CheckResult.warned("slow"), CheckResult.failed("down"), CheckResult.passed()):
        state["now"] = result
        await health.arun()
    assert [(e, level) for e, _, _, level in events(caplog)] == [
        ("degraded", logging.WARNING),
        ("failed", logging.ERROR),
        ("recovered", logging.ERROR),
    ]


@pytest.mark.asyncio
async def test_an_explicit_recovered_level_is_used_as_it_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    switch = Switch()
    health.add(switch, name="db")
    TransitionLog(health, levels={"recovered": logging.INFO}, scopes=("check",))
    await health.arun()
    switch.ok = False
    await health.arun()
    switch.ok = True
    await health.arun()
    assert [level for *_, level in events(caplog)] == [logging.ERROR, logging.INFO]
