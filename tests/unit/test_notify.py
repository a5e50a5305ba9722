"""Status-change listeners: what counts as a change, sync and async subscribers, payloads."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from healthprobe import CheckResult, Health, Status
from healthprobe.observability import StatusChange, StatusChanges, webhook_payload


class Switch:
    def __init__(self, ok: bool = True) -> None:
        self.ok = ok

    async def __call__(self) -> CheckResult:
        return CheckResult.passed() if self.ok else CheckResult.failed("password=hunter2 refused")


def summary(changes: list[StatusChange]) -> list[tuple[str, str, str, str | None, str]]:
    return [
        (
            c.scope,
            c.name,
            c.event,
            None if c.previous is None else c.previous.value,
            c.current.value,
        )
        for c in changes
    ]


@pytest.mark.asyncio
async def test_changes_per_check_probe_and_overall() -> None:
    health = Health(groups=["external"])
    db, cache = Switch(), Switch()
    health.add(db, name="db")
    health.add(cache, name="cache", critical=False, probes=["external"])
    seen: list[StatusChange] = []
    StatusChanges.of(health).subscribe(seen.append)
    await health.arun()
    assert seen == []  # healthy start: no events, and no "unknown" noise from probes
    db.ok = False
    await health.arun()
    await health.arun()
    cache.ok = False
    await health.arun()
    db.ok = cache.ok = True
    await health.arun()
    assert summary(seen) == [
        ("check", "db", "failed", "pass", "fail"),
        ("probe", "ready", "failed", "pass", "fail"),
        ("overall", "health", "failed", "pass", "fail"),
        ("check", "cache", "failed", "pass", "fail"),
        ("probe", "external", "degraded", "pass", "warn"),
        # ready is unchanged; "health" stays failed while db fails
        ("check", "db", "recovered", "fail", "pass"),
        ("probe", "ready", "recovered", "fail", "pass"),
        # the overall status is still warn (cache was read after db): a change, not a recovery
        ("overall", "health", "degraded", "fail", "warn"),
        ("check", "cache", "recovered", "fail", "pass"),
        ("probe", "external", "recovered", "warn", "pass"),
        ("overall", "health", "recovered", "warn", "pass"),
    ]
    db_failed = seen[0]
    assert db_failed.reason == "password=*** refused"  # the engine's sanitized output
    overall_recovered = seen[-1]
    assert overall_recovered.outage_seconds is not None
    assert overall_recovered.outage_seconds >= 0


@pytest.mark.asyncio
async def test_a_first_failing_reading_is_a_change_from_nothing() -> None:
    health = Health()
    health.add(Switch(ok=False), name="db")
    seen: list[StatusChange] = []
    StatusChanges.of(health).subscribe(seen.append, scopes=("check",))
    await health.arun()
    assert summary(seen) == [("check", "db", "failed", None, "fail")]
    assert StatusChanges.of(health).status("check", "db") is Status.FAIL


@pytest.mark.asyncio
async def test_async_subscribers_run_as_tasks_and_failures_are_contained(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = Health()
    db = Switch(ok=False)
    health.add(db, name="db")
    got: list[str] = []
    done = asyncio.Event()

    async def slow(change: StatusChange) -> None:
        await asyncio.sleep(0.05)
        got.append(change.event)
        done.set()

    async def broken_async(change: StatusChange) -> None:
        raise RuntimeError("async subscriber bug")

    def broken_sync(change: StatusChange) -> None:
        raise RuntimeError("sync subscriber bug")

    changes = StatusChanges.of(health)
    changes.subscribe(broken_sync, scopes=("check",))
    changes.subscribe(slow, scopes=("check",))
    changes.subscribe(broken_async, scopes=("check",))
    report = await health.arun()  # not delayed by the slow subscriber, not broken by the others
    assert report.status is Status.FAIL
    assert got == []
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.sleep(0.01)
    assert got == ["failed"]
    messages = [r.getMessage() for r in caplog.records if r.name == "healthprobe"]
    assert any("sync subscriber bug" in m for m in messages)
    assert any("async subscriber bug" in m for m in messages)
    assert not any("Traceback" in m for m in messages)


@pytest.mark.asyncio
async def test_unsubscribe_and_scope_validation() -> None:
    health = Health()
    db = Switch(ok=False)
    health.add(db, name="db")
    seen: list[StatusChange] = []
    changes = StatusChanges.of(health)
    changes.subscribe(seen.append)
    changes.unsubscribe(seen.append)
    await health.arun()
    assert seen == []
    with pytest.raises(ValueError, match="unknown scope"):
        changes.subscribe(seen.append, scopes=("everything",))  # type: ignore[arg-type] # the point


def test_describe_reads_like_a_log_line() -> None:
    import datetime as dt

    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    failed = StatusChange("check", "db", "failed", Status.PASS, Status.FAIL, now, reason="boom")
    assert failed.describe() == "check db failed: boom"
    assert failed.describe(with_reason=False) == "check db failed"
    recovered = StatusChange(
        "overall", "health", "recovered", Status.FAIL, Status.PASS, now, outage_seconds=62.25
    )
    assert recovered.describe() == "overall health recovered after 62.2 s"


def test_webhook_payloads_json_and_slack() -> None:
    import datetime as dt

    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    change = StatusChange("check", "db", "failed", Status.PASS, Status.FAIL, now, reason="refused")
    body = webhook_payload(change, service="checkout")
    assert json.loads(json.dumps(body)) == body
    assert body["event"] == "failed"
    assert body["status"] == "fail"
    assert body["previous"] == "pass"
    assert body["reason"] == "refused"
    assert body["text"] == "[checkout] check db failed: refused"
    assert len(body["id"]) == 32
    assert body["id"] != webhook_payload(change)["id"]
    assert webhook_payload(change, style="slack") == {"text": "check db failed: refused"}
    quiet = webhook_payload(change, with_reasons=False)
    assert "reason" not in quiet
    assert "refused" not in json.dumps(quiet)


def test_the_logger_is_healthprobe() -> None:
    assert logging.getLogger("healthprobe").name == "healthprobe"
