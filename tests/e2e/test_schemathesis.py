"""schemathesis fuzzes the FastAPI OpenAPI document against a real uvicorn process.

The app (``tests/e2e/_schema_app.py``) has ``install()``'s probe routes and
checks in every state.  schemathesis's own runner (``schemathesis run``, all
phases that apply: examples, coverage, fuzzing) loads ``/openapi.json`` over
HTTP and, for every operation, generates requests from the documented path
and query parameters, valid and invalid ones (``--max-examples`` bounds it),
sends them and runs every check it has (``--checks all``): a documented
status code and content type, a body valid against the documented schema,
valid input accepted, invalid input rejected with a 4xx, and no server error.

One deliberate setting: ``503`` is what a failing probe *means* (documented
on every probe operation), so ``not_a_server_error`` accepts it; any other
5xx (a 500 from a broken health system, a 502, a 504) still fails the run.
Check names come from a dictionary part of the time, so the one-check
operations are exercised with names that exist as well as with ones that do
not (404, documented).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e._processes import ROOT, process, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

CONFIG = """\
[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "503"]

[dictionaries.checks]
values = ["db", "cache", "search", "heartbeat"]

[parameters]
"path.name" = { dictionary = "checks", probability = 0.6 }
"""


def _schemathesis() -> str:
    # The console script next to this interpreter (the test extra installs it).
    found = Path(sys.executable).with_name("schemathesis")
    if found.exists():
        return str(found)
    path = shutil.which("schemathesis")
    if path is None:
        pytest.fail("schemathesis is not installed (it is in the 'test' extra)")
    return path


def test_fuzzed_probe_operations_conform_to_the_openapi_document(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "uvicorn.log"
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    args = [
        sys.executable, "-m", "uvicorn", "tests.e2e._schema_app:app",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
    ]  # fmt: skip
    with process(args, log, cwd=ROOT) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/livez", proc, log)
        document = httpx.get(f"{base}/openapi.json", timeout=5).json()
        probe_paths = [p for p in document["paths"] if p != "/work"]
        # Guard against fuzzing nothing: every probe and its one-check twin is there.
        for probe in ("/livez", "/live", "/readyz", "/ready", "/startupz", "/health"):
            assert {probe, f"{probe}/{{name}}"} <= set(probe_paths), probe_paths
        run = subprocess.run(
            [
                _schemathesis(), "--config-file", str(config), "run", f"{base}/openapi.json",
                "--checks", "all", "--max-examples", "40", "--no-color",
                "--request-timeout", "10",
            ],
            check=False, cwd=tmp_path, capture_output=True, text=True, timeout=200,
        )  # fmt: skip
        assert proc.poll() is None, log.read_text()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    # Every operation was tested, and no check failed.
    assert f"Tested: {len(document['paths'])}" in output, output[-3000:]
    assert "Traceback" not in log.read_text(), log.read_text()
