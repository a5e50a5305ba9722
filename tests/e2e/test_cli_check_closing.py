"""``healthprobe check`` with a check that swallows its cancellation (issue 17.6).

On ``eda6039`` closing raised ``TimeoutError`` after 5 s: a traceback, no
report, exit 1 after 6.2 s.  Closing is bounded and quiet: the report
prints, and the exit code is 1 after about the check's timeout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e._cli_support import ROOT, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

CHECK_MODULE = '''
import asyncio


async def stubborn() -> bool:
    """Never ends, whatever it is told."""
    while True:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            continue
'''

CONFIG = """
[checks.stubborn]
callable = "hp_stubborn_check:stubborn"
timeout = 1
"""


def test_a_check_that_swallows_cancellation_reports_and_exits_after_its_timeout(
    tmp_path: Path,
) -> None:
    (tmp_path / "hp_stubborn_check.py").write_text(CHECK_MODULE)
    config = tmp_path / "healthprobe.toml"
    config.write_text(CONFIG)
    path = os.pathsep.join([str(tmp_path), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    proc, elapsed = run_cli(["check", "--config", str(config)], env={"PYTHONPATH": path})
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr == ""
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert rows[0] == ["CHECK", "STATUS", "LATENCY", "CRITICAL", "REASON"]
    assert rows[1][:2] == ["stubborn", "fail"]
    assert "timed out after 1 s" in proc.stdout
    # 1 s of timeout, a quarter second of grace, and the interpreter's start-up
    # on a loaded machine: far below the 6.2 s of eda6039.
    assert elapsed < 4.0, f"took {elapsed:.1f} s"
