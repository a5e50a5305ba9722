"""The ``healthprobe`` dispatcher: usage, version, unknown commands, ``python -m``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from healthprobe import __version__
from healthprobe.cli import main


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("usage: healthprobe COMMAND")


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "probe URL" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"healthprobe {__version__}\n"


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prob"]) == 2
    assert (
        "unknown command 'prob'; choose from probe, wait, check, serve" in capsys.readouterr().err
    )


@pytest.mark.parametrize("command", ["probe", "wait", "check", "serve"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main([command, "--help"])
    except SystemExit as exit_:  # argparse exits by itself
        code = int(exit_.code or 0)
    assert code == 0
    assert f"healthprobe {command}" in capsys.readouterr().out


def test_python_dash_m_runs_the_same_command_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "healthprobe", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, f"healthprobe {__version__}\n")


def test_ctrl_c_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from healthprobe.cli import _wait

    def interrupted(argv: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(_wait, "main", interrupted)
    assert main(["wait", "http://127.0.0.1:1/"]) == 130
    assert capsys.readouterr().err == "healthprobe: interrupted\n"
