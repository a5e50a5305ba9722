"""WritableCheck, InodesCheck and FileAgeCheck on real temp directories of this machine."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from healthprobe.checks.files import FileAgeCheck, InodesCheck, WritableCheck

pytestmark = pytest.mark.timeout(30)


def run(check: WritableCheck | InodesCheck | FileAgeCheck) -> CheckResult:
    """One run through the engine, as a probe would do it."""
    health = Health()
    health.add(check)
    try:
        return health.run(None).checks[check.name].result
    finally:
        health.stop()


def test_writable_passes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    result = run(WritableCheck(tmp_path))
    assert result.status is Status.PASS, result.output
    assert result.observed_unit == "ms"
    assert result.component_type == "system"
    assert list(tmp_path.iterdir()) == []


def test_writable_fails_on_a_read_only_directory(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes through permission bits: a path below a regular file fails for anyone.
        (tmp_path / "file").write_text("x")
        target = tmp_path / "file"
        reason = "Not a directory"
    else:
        target = tmp_path / "ro"
        target.mkdir(mode=0o500)
        reason = "Permission denied"
    result = run(WritableCheck(target))
    assert result.status is Status.FAIL
    assert result.output == f"cannot create a file: {reason}"
    assert str(tmp_path) not in result.output


def test_writable_fails_on_a_missing_directory(tmp_path: Path) -> None:
    result = run(WritableCheck(tmp_path / "gone"))
    assert result.output == "cannot create a file: No such file or directory"


def test_inodes_reads_the_real_file_system(tmp_path: Path) -> None:
    stats = os.statvfs(tmp_path)
    if stats.f_files == 0:
        pytest.skip("this file system does not count inodes")
    result = run(InodesCheck(tmp_path, used_warn=None, used_fail=None))
    assert result.status is Status.PASS
    assert result.observed_unit == "percent"
    real = (
        100.0 * (stats.f_files - stats.f_ffree) / (stats.f_files - stats.f_ffree + stats.f_favail)
    )
    assert result.observed_value == pytest.approx(real, abs=0.5)
    assert result.details["inodes_total"] == stats.f_files


def test_inodes_thresholds_warn_and_fail_and_new_files_count(tmp_path: Path) -> None:
    stats = os.statvfs(tmp_path)
    if stats.f_files == 0:
        pytest.skip("this file system does not count inodes")
    before = run(InodesCheck(tmp_path, used_warn=None, used_fail=None)).details["inodes_used"]
    for index in range(200):
        (tmp_path / f"f{index}").touch()
    after = run(InodesCheck(tmp_path, used_warn=None, used_fail=None))
    assert after.details["inodes_used"] >= before + 150  # others may free a few meanwhile
    percent = after.observed_value
    assert isinstance(percent, float)
    warned = run(InodesCheck(tmp_path, used_warn=max(0.0, percent - 0.5), used_fail=100))
    failed = run(InodesCheck(tmp_path, used_warn=0, used_fail=max(0.0, percent - 0.5)))
    assert warned.status is Status.WARN, warned.output
    assert "warn at" in warned.output
    assert failed.status is Status.FAIL, failed.output


def test_inodes_on_a_missing_path_fails(tmp_path: Path) -> None:
    result = run(InodesCheck(tmp_path / "gone"))
    assert result.status is Status.FAIL
    assert result.output == "cannot read inode counts: No such file or directory"


def test_file_age_fresh_stale_warned_and_missing(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    beat.touch()
    fresh = run(FileAgeCheck(beat, max_age=60))
    assert fresh.status is Status.PASS, fresh.output
    assert fresh.observed_unit == "seconds"
    assert isinstance(fresh.observed_value, float)
    assert fresh.observed_value < 5
    old = time.time() - 600
    os.utime(beat, (old, old))  # the cron job last ran ten minutes ago
    stale = run(FileAgeCheck(beat, max_age=300))
    assert stale.status is Status.FAIL
    assert stale.output.endswith("(older than 300 s)")
    assert stale.observed_value == pytest.approx(600, abs=5)
    warned = run(FileAgeCheck(beat, max_age=900, warn_age=300))
    assert warned.status is Status.WARN
    beat.unlink()
    missing = run(FileAgeCheck(beat, max_age=60))
    assert missing.status is Status.FAIL
    assert missing.output == "cannot read the file: No such file or directory"


def test_file_age_in_the_future_reads_as_zero(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    beat.touch()
    ahead = time.time() + 3600
    os.utime(beat, (ahead, ahead))
    result = run(FileAgeCheck(beat, max_age=60))
    assert result.status is Status.PASS
    assert result.observed_value == 0


@pytest.mark.parametrize(
    ("factory", "named"),
    [
        (lambda: InodesCheck("/", used_warn=99, used_fail=90), "used_warn"),
        (lambda: InodesCheck("/", used_fail=101), "used_fail"),
        (lambda: FileAgeCheck("/x", max_age=0), "max_age"),
        (lambda: FileAgeCheck("/x", max_age=10, warn_age=20), "warn_age"),
        (lambda: WritableCheck("/tmp", timeout=-1), "timeout"),
    ],
)
def test_bad_options_are_refused_naming_the_option(factory: object, named: str) -> None:
    assert callable(factory)
    with pytest.raises(ConfigurationError, match=named):
        factory()
