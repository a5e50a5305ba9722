"""Noise control on the notification side: what reaches a notifier, never what a probe says."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from healthprobe import Health, Status
from healthprobe.observability import StatusChange
from healthprobe.observe.alerting import AlertPolicy, MaintenanceWindow, NetworkGuard

UTC = dt.timezone.utc


class Switches:
    """Sync checks whose outcome the test sets, and the changes a policy lets through."""

    def __init__(self, *names: str) -> None:
        self.ok = dict.fromkeys(names, True)
        self.told: list[StatusChange] = []
        self.health = Health()
        for name in names:
            self.health.add(self._check(name), name=name)

    def _check(self, name: str) -> object:
        def check() -> bool:
            return self.ok[name]

        return check

    def policy(self, *, scopes: tuple[str, ...] = ("check",), **options: object) -> AlertPolicy:
        policy = AlertPolicy(self.told.append, **options)  # type: ignore[arg-type]
        return policy.attach(self.health, scopes=scopes)  # type: ignore[arg-type]

    async def reading(self, **states: bool) -> Status:
        self.ok.update(states)
        report = await self.health.arun()
        return report.status

    def events(self) -> list[tuple[str, str]]:
        return [(change.name, change.event) for change in self.told]


async def wait_until(predicate: object, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_notify_after_readings_holds_back_a_flap_but_not_the_probe() -> None:
    s = Switches("db")
    s.policy(notify_after=3)
    assert await s.reading(db=False) is Status.FAIL  # the probe answers at once
    assert await s.reading() is Status.FAIL
    assert await s.reading(db=True) is Status.PASS
    assert s.events() == []  # two failing readings, then a pass: never told, nor its recovery
    for _ in range(2):
        await s.reading(db=False)
    assert s.events() == []
    await s.reading()
    assert s.events() == [("db", "failed")]  # the third consecutive failing reading
    await s.reading(db=True)
    assert s.events() == [("db", "failed"), ("db", "recovered")]


@pytest.mark.asyncio
async def test_resolve_after_keeps_the_incident_open_through_a_relapse() -> None:
    s = Switches("db")
    s.policy(resolve_after=2)
    await s.reading(db=False)
    await s.reading(db=True)
    await s.reading(db=False)  # relapse: no recovery told, no second failure told
    assert s.events() == [("db", "failed")]
    await s.reading(db=True)
    await s.reading()
    assert s.events() == [("db", "failed"), ("db", "recovered")]


@pytest.mark.asyncio
async def test_notify_after_a_duration_tells_without_another_reading() -> None:
    s = Switches("db")
    s.policy(notify_after=dt.timedelta(seconds=0.3))
    await s.reading(db=False)
    await s.reading(db=True)  # recovered within the duration: nothing, ever
    await asyncio.sleep(0.5)
    assert s.events() == []
    started = time.monotonic()
    await s.reading(db=False)
    assert s.events() == []
    await wait_until(lambda: s.events() == [("db", "failed")])
    assert time.monotonic() - started >= 0.28


@pytest.mark.asyncio
async def test_reminders_repeat_a_lasting_failure_until_it_recovers() -> None:
    s = Switches("db")
    policy = s.policy(remind_every=dt.timedelta(seconds=0.15))
    await s.reading(db=False)
    await wait_until(lambda: len(s.told) >= 3)
    assert s.told[0].reminder is False
    assert all(change.reminder for change in s.told[1:])
    assert "reminder" in s.told[1].describe()
    await s.reading(db=True)
    count = len(s.told)
    await asyncio.sleep(0.4)
    assert s.events()[count - 1] == ("db", "recovered")
    assert len(s.told) == count  # no reminder after the recovery
    policy.close()


@pytest.mark.asyncio
async def test_a_silence_holds_back_failures_and_tells_them_when_it_ends() -> None:
    s = Switches("db", "cache")
    policy = s.policy()
    await s.reading(cache=False)
    assert s.events() == [("cache", "failed")]
    policy.silence(dt.datetime.now(UTC) + dt.timedelta(seconds=0.3))
    await s.reading(db=False)
    assert s.events() == [("cache", "failed")]  # db's failure is held back
    await s.reading(cache=True)  # a recovery is told even in a silence: the incident closes
    assert s.events()[-1] == ("cache", "recovered")
    await asyncio.sleep(0.35)
    await s.reading()  # the silence is over and db still fails: told now
    assert s.events()[-1] == ("db", "failed")


@pytest.mark.asyncio
async def test_a_failure_that_ends_inside_the_silence_is_never_told() -> None:
    s = Switches("db")
    policy = s.policy()
    policy.silence(dt.datetime.now(UTC) + dt.timedelta(seconds=0.2))
    await s.reading(db=False)
    await s.reading(db=True)
    await asyncio.sleep(0.25)
    await s.reading()
    assert s.events() == []


@pytest.mark.asyncio
async def test_a_maintenance_window_in_force_silences() -> None:
    now = dt.datetime.now(UTC)
    window = MaintenanceWindow((now - dt.timedelta(minutes=5)).time(), dt.timedelta(minutes=30))
    s = Switches("db")
    s.policy(maintenance=[window])
    await s.reading(db=False)
    assert s.events() == []


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        (dt.datetime(2026, 12, 1, 23, 30, tzinfo=UTC), True),  # Tuesday, inside
        (dt.datetime(2026, 12, 2, 0, 59, tzinfo=UTC), True),  # past midnight, still inside
        (dt.datetime(2026, 12, 2, 1, 0, tzinfo=UTC), False),  # the end is exclusive
        (dt.datetime(2026, 12, 1, 22, 59, tzinfo=UTC), False),
        (dt.datetime(2026, 12, 6, 23, 30, tzinfo=UTC), False),  # Sunday: no window starts
        (dt.datetime(2026, 12, 2, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), False),
    ],
)
def test_maintenance_windows_recur_and_cross_midnight(moment: dt.datetime, active: bool) -> None:
    weekdays = frozenset(range(5))  # windows start Monday to Friday
    window = MaintenanceWindow(dt.time(23, 0), dt.timedelta(hours=2), weekdays)
    assert window.active(moment) is active


@pytest.mark.asyncio
async def test_the_network_guard_tells_one_network_failure_instead_of_one_per_check() -> None:
    s = Switches("gateway", "db", "cache")
    guard = NetworkGuard("gateway", ["db", "cache"], settle=0)
    s.policy(notify_after=2, network_guard=guard, scopes=("check", "overall"))
    await s.reading(gateway=False, db=False, cache=False)
    await s.reading()
    assert s.events() == [("network", "failed")]
    assert "network looks down" in s.told[0].reason
    await s.reading(gateway=True, db=True, cache=True)
    await s.reading()
    assert s.events() == [("network", "failed"), ("network", "recovered")]


@pytest.mark.asyncio
async def test_the_guard_waits_for_the_other_readings_before_it_decides() -> None:
    s = Switches("gateway", "db", "cache")
    s.policy(network_guard=NetworkGuard("gateway", ["db", "cache"], settle=0.2))
    await s.reading(gateway=False, db=False, cache=False)  # gateway is read first
    assert s.events() == []  # settling
    await wait_until(lambda: s.events() == [("network", "failed")])
    await asyncio.sleep(0.3)
    assert s.events() == [("network", "failed")]  # the members were told as one


@pytest.mark.asyncio
async def test_the_network_guard_lets_one_dependency_fail_on_its_own() -> None:
    s = Switches("gateway", "db", "cache")
    s.policy(network_guard=NetworkGuard("gateway", ["db", "cache"], settle=0.1))
    await s.reading(db=False)
    await wait_until(lambda: s.events() == [("db", "failed")])


@pytest.mark.asyncio
async def test_after_the_network_returns_a_check_still_failing_is_told() -> None:
    s = Switches("gateway", "db", "cache")
    s.policy(network_guard=NetworkGuard("gateway", ["db", "cache"], settle=0.1))
    await s.reading(gateway=False, db=False, cache=False)
    await wait_until(lambda: s.events() == [("network", "failed")])
    await s.reading(gateway=True, cache=True)
    await s.reading()
    await wait_until(
        lambda: s.events() == [("network", "failed"), ("network", "recovered"), ("db", "failed")]
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"notify_after": 0}, "notify_after"),
        ({"notify_after": True}, "notify_after"),
        ({"resolve_after": dt.timedelta(seconds=-1)}, "resolve_after"),
        ({"remind_every": dt.timedelta(0)}, "remind_every"),
    ],
)
def test_bad_options_name_themselves(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AlertPolicy(print, **options)  # type: ignore[arg-type]


def test_a_network_guard_needs_a_sentinel_apart_from_its_checks() -> None:
    with pytest.raises(ValueError, match="sentinel"):
        NetworkGuard("db", ["db"])
