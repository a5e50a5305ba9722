"""``healthprobe check --heartbeat-file PATH --max-age N``: a worker's exec probe."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from healthprobe import Heartbeat
from healthprobe.cli import main


def test_a_fresh_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "heartbeat"
    Heartbeat("worker", max_age=30, file=path).beat()
    assert main(["check", "--heartbeat-file", str(path), "--max-age", "30"]) == 0
    assert "modified 0 s ago" in capsys.readouterr().out


def test_an_old_file_fails_as_silence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "heartbeat"
    path.write_text("")
    old = time.time() - 120
    os.utime(path, (old, old))
    assert main(["check", "--heartbeat-file", str(path), "--max-age", "30"]) == 1
    assert "modified 120 s ago (older than 30 s)" in capsys.readouterr().out


def test_a_failing_beat_fails_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "heartbeat"
    beat = Heartbeat("worker", max_age=30, file=path)
    beat.beat()
    beat.beat(ok=False, reason="wedged")
    assert main(["check", "--heartbeat-file", str(path), "--max-age", "30"]) == 1
    assert "(older than 30 s)" in capsys.readouterr().out  # an epoch mtime: at once


def test_a_missing_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "never-written"
    assert main(["check", "--heartbeat-file", str(path), "--max-age", "30"]) == 1
    assert "cannot read the file: No such file or directory" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "text"),
    [([], "needs --max-age"), (["--max-age", "0"], "positive"), (["--max-age", "inf"], "positive")],
)
def test_max_age_is_required_and_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], text: str
) -> None:
    assert main(["check", "--heartbeat-file", str(tmp_path / "h"), *args]) == 2
    assert text in capsys.readouterr().err


def test_the_probe_option_selects_liveness(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    Heartbeat("worker", max_age=30, file=path).beat()
    assert main(["check", "--heartbeat-file", str(path), "--max-age", "30", "--probe", "live"]) == 0
