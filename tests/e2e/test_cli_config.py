"""The command line says what is wrong, once (issue 13.13): the installed script, as run."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e._cli_support import healthprobe_command, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def write(tmp_path: Path, text: str, name: str = "healthprobe.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "checks: none configured; add a [checks.NAME] table"),
        ('[health]\nversion = "1"\n', "checks: none configured"),
        (
            '[checks.x]\ntype = "disk"\npath = "/"\nenabled = false\n',
            "checks: every check is disabled",
        ),
    ],
)
def test_a_config_without_checks_exits_2_with_a_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    config = write(tmp_path, text)
    proc, _ = run_cli(["check", "-c", str(config)])
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"healthprobe: bad config: {config}: {reason}")
    assert proc.stderr.count("\n") == 1
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        (
            '[checks.x]\ntype = "disk"\npath = "/"\ntimout = 1\n',
            "checks.x.timout",
            "did you mean 'timeout'?",
        ),
        (
            '[checks.x]\ntype = "disk"\npath = "/"\ncritcal = false\n',
            "checks.x.critcal",
            "did you mean 'critical'?",
        ),
        ("[health]\ndeadlin = 3\n", "health.deadlin", "did you mean 'deadline'?"),
        ("[serve]\ndrian = 3\n", "serve.drian", "did you mean 'drain'?"),
    ],
)
def test_an_unknown_key_suggests_the_nearest_and_lists_every_option(
    tmp_path: Path, text: str, key: str, hint: str
) -> None:
    config = write(tmp_path, text)
    proc, _ = run_cli(["check", "-c", str(config)])
    assert proc.returncode == 2
    assert f"{config}: {key}: unknown" in proc.stderr
    assert hint in proc.stderr
    if key.startswith("checks"):
        # The check's own keys and the engine's: a user cannot know which list to read.
        assert "(this check takes: " in proc.stderr
        assert "used_warn" in proc.stderr
        assert "every check takes: cache_ttl, component_type, critical" in proc.stderr


MARKER_CHECK = """
from pathlib import Path

def check() -> bool:
    Path(__file__).with_name("ran").write_text("the check ran")
    return True
"""


def test_validate_builds_every_check_and_runs_none(tmp_path: Path) -> None:
    package = tmp_path / "myapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "health.py").write_text(MARKER_CHECK)
    config = write(
        tmp_path,
        '[checks.mine]\ncallable = "myapp.health:check"\n\n'
        '[checks.disk]\ntype = "disk"\npath = "/"\n',
    )
    validated = _in(tmp_path, ["check", "--validate", "-c", str(config)])
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout == f"{config}: valid, 2 checks: mine, disk\n"
    assert not (package / "ran").exists()
    ran = _in(tmp_path, ["check", "-c", str(config)])
    assert ran.returncode == 0, ran.stderr
    assert (package / "ran").exists()


def test_a_callable_imports_from_the_current_directory(tmp_path: Path) -> None:
    # As `python -m healthprobe` does; the installed script has its bin/ on sys.path instead.
    package = tmp_path / "myapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "health.py").write_text("def x() -> str:\n    return 'ok'\n")
    config = write(tmp_path, '[checks.x]\ncallable = "myapp.health:x"\n')
    proc = _in(tmp_path, ["check", "-c", str(config)])
    assert proc.returncode == 0, proc.stderr
    assert "x      pass" in proc.stdout


@pytest.mark.parametrize(
    "line", ['details = "sometimes"', 'prefix = "/x/"', 'token = "too-short"', "ui_refresh = 0"]
)
def test_check_refuses_the_serve_table_serve_refuses(tmp_path: Path, line: str) -> None:
    config = write(tmp_path, f'[serve]\n{line}\n\n[checks.d]\ntype = "disk"\npath = "/"\n')
    key = line.split(" ", 1)[0]
    answers = [
        _in(tmp_path, ["check", "--validate", "-c", str(config)]),
        _in(tmp_path, ["check", "-c", str(config)]),
        _in(tmp_path, ["serve", "-c", str(config), "--port", "1"]),
    ]
    for proc in answers:
        assert proc.returncode == 2, (proc.stdout, proc.stderr)
        assert f"healthprobe: bad config: {config}: serve.{key}: " in proc.stderr
    assert len({proc.stderr for proc in answers}) == 1  # the same words, once each


def test_serve_says_when_its_address_is_taken_and_exits_3(tmp_path: Path) -> None:
    config = write(tmp_path, '[checks.d]\ntype = "disk"\npath = "/"\n')
    with socket.socket() as busy:  # the test's own listener holds the port
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = _in(tmp_path, ["serve", "-c", str(config), "--port", str(port)])
    assert proc.returncode == 3
    assert proc.stderr == (
        f"healthprobe: cannot listen on 127.0.0.1:{port}: Address already in use"
        " (choose another with --port / --host, or [serve] port / host)\n"
    )


def _in(cwd: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*healthprobe_command(), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=dict(os.environ),
        check=False,
    )
