"""promtool (from Debian's `prometheus` package) accepts the dependency-free exposition."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from healthprobe import CheckResult, Health
from healthprobe.observability import History, render_metrics
from tests.conftest import REQUIRE_SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        message = "promtool is not installed (Debian package prometheus)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


def check_metrics(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.asyncio
async def test_promtool_accepts_the_exposition_in_every_state() -> None:
    health = Health(groups=["external"])
    History.of(health)
    health.add(lambda: True, name="db")
    health.add(lambda: CheckResult.warned("slow"), name="disk", critical=False)
    health.add(lambda: False, name="cache", probes=["ready", "external"])
    health.add(lambda: True, name="never-run.v2", probes=["startup"], cache_ttl=60)
    before = render_metrics(health)  # nothing read yet: every check unknown
    await health.arun("ready")
    after = render_metrics(health)
    for text in (before, after):
        result = check_metrics(text)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == ""  # no lint complaint at all
    assert 'healthprobe_check_status{check="cache",status="fail"} 1' in after


def test_promtool_does_reject_a_broken_exposition() -> None:
    """The check above can fail: promtool does complain about a bad family."""
    result = check_metrics("# TYPE healthprobe_bad counter\nhealthprobe_bad 1\n")
    assert result.returncode != 0 or result.stdout.strip() != ""


@pytest.mark.asyncio
async def test_promtool_accepts_the_info_component_and_tls_expiry_series() -> None:
    health = Health(version="1.4.2")
    History.of(health)
    health.add(lambda: True, name="db", component_type="datastore")
    expiry = CheckResult.passed(
        "certificate expires in 20 days", details={"not_after": "2027-01-01T00:00:00+00:00"}
    )
    health.add(lambda: expiry, name="api-tls", component_type="component")
    await health.arun()
    text = render_metrics(health, info={"release_id": "r7", "service_id": "checkout"})
    assert 'healthprobe_info{version="1.4.2",release_id="r7",service_id="checkout"} 1' in text
    assert (
        'healthprobe_tls_certificate_expiry_timestamp_seconds{check="api-tls",'
        'component="component"} 1798761600'
    ) in text
    result = check_metrics(text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""
