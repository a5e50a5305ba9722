"""A Django check on ``django.db.connection`` keeps one PostgreSQL backend (issue 14.1).

Django keeps its connection per thread.  On ``eda6039`` every run of a sync
check started a thread of its own, so every run opened a new backend (8
runs, 8 PIDs) and left idle ones behind; now the check keeps its thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import require_server

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]


def test_a_hundred_runs_of_a_django_check_use_one_backend() -> None:
    require_server("PostgreSQL", 5432)
    name = f"hp-django-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.services._django_pg_app", name, "100"],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(seen["pids"]) == 1, seen  # one backend for 100 runs
    assert seen["backends"] == seen["pids"]  # and no idle one left behind
