"""Prometheus blackbox_exporter, an independent HTTP client, agrees with every probe's state.

Debian's ``prometheus-blackbox-exporter`` runs on a free loopback port with a
config of ours: three ``http`` modules (GET, HEAD, and GET asking for
``application/health+json``), each with ``valid_status_codes: [200]``.  The
resilience app has one polled check, ``flag``, which fails while a file
exists.  For each probe path, in both states, ``/probe?target=...&module=...``
must report ``probe_success`` 1 exactly when the path answers 200 to our own
client, and the same ``probe_http_status_code``.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e._blackbox import blackbox_exporter
from tests.e2e._replicas import Replica, running

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

MODULES = """\
modules:
  get_200:
    prober: http
    timeout: 3s
    http:
      method: GET
      valid_status_codes: [200]
      preferred_ip_protocol: ip4
  head_200:
    prober: http
    timeout: 3s
    http:
      method: HEAD
      valid_status_codes: [200]
      preferred_ip_protocol: ip4
  ietf_200:
    prober: http
    timeout: 3s
    http:
      method: GET
      headers:
        Accept: application/health+json
      valid_status_codes: [200]
      preferred_ip_protocol: ip4
"""
PATHS = ("/livez", "/readyz", "/startupz", "/health", "/readyz/flag", "/health/flag")
# Expected status code per path while the flag check passes / fails.
PASSING = dict.fromkeys(PATHS, 200)
FAILING = {**PASSING, "/readyz": 503, "/health": 503, "/readyz/flag": 503, "/health/flag": 503}


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{name} missing from:\n{text}"
    return float(found.group(1))


def _agree(client: httpx.Client, exporter: str, app: str, expected: dict[str, int]) -> None:
    """Every module, every path: the exporter's verdict matches ours and ``expected``."""
    for path, status in expected.items():
        ours = client.get(f"{app}{path}").status_code
        assert ours == status, (path, ours)
        for module in ("get_200", "head_200", "ietf_200"):
            reply = client.get(f"{exporter}/probe", params={"target": app + path, "module": module})
            assert reply.status_code == 200, reply.text
            success = _metric(reply.text, "probe_success")
            code = _metric(reply.text, "probe_http_status_code")
            assert (module, path, code) == (module, path, status)
            assert success == (1.0 if status == 200 else 0.0), (module, path, reply.text)


def test_blackbox_exporter_agrees_with_probe_states(tmp_path: Path) -> None:
    flag = tmp_path / "fail-now"
    replica = Replica("app", {"HP_E2E_FLAG": str(flag), "HP_E2E_INTERVAL": "0.2"}, tmp_path)
    with running(replica) as app, blackbox_exporter(tmp_path, MODULES) as exporter:
        app.wait_status("/readyz", 200, timeout=20.0)
        with httpx.Client(timeout=10.0) as client:
            _agree(client, exporter, app.base, PASSING)

            flag.touch()
            app.wait_status("/readyz", 503, timeout=5.0)
            _agree(client, exporter, app.base, FAILING)
            # An unknown check is a 404, which the exporter also counts as down.
            unknown = {"target": f"{app.base}/readyz/nope", "module": "get_200"}
            reply = client.get(f"{exporter}/probe", params=unknown)
            assert _metric(reply.text, "probe_http_status_code") == 404
            assert _metric(reply.text, "probe_success") == 0

            flag.unlink()
            app.wait_status("/readyz", 200, timeout=5.0)
            _agree(client, exporter, app.base, PASSING)
