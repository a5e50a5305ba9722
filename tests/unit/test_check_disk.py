"""DiskCheck against this machine's real root file system."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.checks.disk import DiskCheck

pytestmark = pytest.mark.timeout(30)


def used_percent(path: str = "/") -> float:
    usage = shutil.disk_usage(path)
    return 100.0 * usage.used / (usage.used + usage.free)


def run(check: DiskCheck) -> CheckResult:
    """One run through the engine, as a probe would do it."""
    health = Health()
    health.add(check)
    try:
        return health.run(None).checks[check.name].result
    finally:
        health.stop()


def test_passes_below_both_thresholds_with_percent_observed() -> None:
    real = used_percent()
    result = run(DiskCheck("/", used_warn=min(100.0, real + 5), used_fail=None))
    assert result.status is Status.PASS, result.output
    assert result.observed_unit == "percent"
    assert result.observed_value == pytest.approx(real, abs=1.0)
    assert result.component_type == "system"
    assert result.details["free_bytes"] > 0
    assert result.latency is not None


def test_warns_at_a_threshold_just_below_the_real_usage() -> None:
    real = used_percent()
    if real < 2:
        pytest.skip(f"the root file system is {real:.1f}% used: no room below it")
    result = run(DiskCheck("/", used_warn=real - 1, used_fail=min(100.0, real + 5)))
    assert result.status is Status.WARN, result.output
    assert "warn at" in result.output


def test_fails_at_a_fail_threshold_just_below_the_real_usage() -> None:
    real = used_percent()
    if real < 2:
        pytest.skip(f"the root file system is {real:.1f}% used: no room below it")
    result = run(DiskCheck("/", used_warn=real - 1.5, used_fail=real - 1))
    assert result.status is Status.FAIL, result.output
    assert "fail at" in result.output


def test_free_bytes_thresholds_warn_and_fail() -> None:
    free = shutil.disk_usage("/").free
    warned = run(DiskCheck("/", used_warn=None, used_fail=None, free_warn=free * 2))
    assert warned.status is Status.WARN, warned.output
    assert "bytes free" in warned.output
    failed = run(DiskCheck("/", used_warn=None, free_warn=free * 3, free_fail=free * 2))
    assert failed.status is Status.FAIL, failed.output
    passed = run(DiskCheck("/", used_warn=None, used_fail=None, free_warn=free // 2))
    assert passed.status is Status.PASS, passed.output


def test_a_missing_path_fails_with_a_one_line_reason(tmp_path: Path) -> None:
    result = run(DiskCheck(tmp_path / "gone"))
    assert result.status is Status.FAIL
    assert result.output == "cannot read disk usage: No such file or directory"
    assert str(tmp_path) not in result.output
    assert "\n" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"used_warn": 150}, "used_warn"),
        ({"used_fail": -1}, "used_fail"),
        ({"used_warn": 96, "used_fail": 95}, "used_warn"),
        ({"free_warn": 10, "free_fail": 20}, "free_warn"),
        ({"free_fail": "lots"}, "free_fail"),
        ({"timeout": 0}, "timeout"),
        ({"used_warn": float("nan")}, "used_warn"),
    ],
)
def test_bad_thresholds_are_refused_naming_the_option(
    options: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        DiskCheck("/", **options)  # type: ignore[arg-type]  # wrong types on purpose
