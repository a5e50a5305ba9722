"""The fleet view in deploy/prometheus/: promtool checks and unit-tests the rules, and a real
Prometheus scraping three replicas fires and resolves them as the replicas fail and recover.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import REQUIRE_SERVICES, free_port
from tests.e2e._processes import ROOT, process, wait_for
from tests.e2e.test_prometheus_scrape import prometheus_binary, query

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

FOLDER = ROOT / "deploy" / "prometheus"
RULES = FOLDER / "healthprobe.rules.yml"
UNIT_TESTS = FOLDER / "healthprobe.rules.test.yml"
DASHBOARD = FOLDER / "grafana-dashboard.json"


def promtool(*args: str, cwd: Path = FOLDER) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    if path is None:
        message = "promtool is not installed (Debian package prometheus)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        [path, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_promtool_unit_tests_pass_and_cover_every_alert() -> None:
    result = promtool("test", "rules", UNIT_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert len(alerts) == 5
    tests = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    tested = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]  # a case where it fires, not only where it does not
    }
    assert tested == alerts


def test_the_unit_tests_catch_a_broken_rule(tmp_path: Path) -> None:
    """The unit tests can fail: a rule that waits 10 minutes instead of 5 breaks them."""
    broken = RULES.read_text().replace("for: 5m", "for: 10m", 1)
    assert broken != RULES.read_text()
    (tmp_path / RULES.name).write_text(broken)
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=tmp_path)
    assert result.returncode != 0
    assert "HealthprobeUnready" in result.stdout + result.stderr


def dashboard_queries() -> list[str]:
    document = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in document["panels"] for target in panel["targets"]]


def test_the_dashboard_reads_only_series_that_exist() -> None:
    document = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids))
    assert {v["name"] for v in document["templating"]["list"]} == {"datasource", "job"}
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    exposed = set(re.findall(r"``(healthprobe_\w+)", _metrics_docs()))
    for expr in dashboard_queries():
        if expr.startswith("ALERTS"):
            continue  # Prometheus's own series of the alerts above
        assert 'job=~"$job"' in expr, expr
        names = set(re.findall(r"\b([a-z_]+:[a-z_:0-9]+|healthprobe_[a-z_]+)\b", expr))
        assert names, expr
        assert names <= recorded | exposed, (expr, names - recorded - exposed)


def _metrics_docs() -> str:
    from healthprobe.observe import metrics

    return metrics.__doc__ or ""


# -- a real Prometheus, three replicas -----------------------------------------------------


class FleetReplica:
    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.state = workdir / f"{name}.state"
        self.slow = workdir / f"{name}.slow"
        self.state.write_text("ok")
        self.slow.write_text("0")
        self.log = workdir / f"{name}.log"
        self.instance = f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def replicas(workdir: Path, names: tuple[str, ...]) -> Iterator[dict[str, FleetReplica]]:
    fleet = {name: FleetReplica(name, workdir) for name in names}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for replica in fleet.values():
            env = {
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "HP_FLEET_STATE": str(replica.state),
                "HP_FLEET_SLOW": str(replica.slow),
            }
            args = [
                sys.executable, "-m", "uvicorn", "tests.e2e._fleet_app:app",
                "--host", "127.0.0.1", "--port", str(replica.port), "--no-access-log",
            ]  # fmt: skip
            with replica.log.open("wb") as out:
                procs.append(
                    subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
                )
        for replica, proc in zip(fleet.values(), procs, strict=True):
            wait_for(f"http://{replica.instance}/livez", proc, replica.log)
        yield fleet
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def fast_rules(text: str) -> str:
    """The shipped rules with every minute made a second, and a 1 s default timeout.

    The expressions stay the same; only the clocks are scaled, so that an
    alert that waits 5 minutes in production waits 5 seconds here.
    """
    text = re.sub(r"for: (\d+)m\b", r"for: \1s", text)
    text = re.sub(r"\[(\d+)m\]", r"[\1s]", text)
    return text.replace(
        "healthprobe_check_duration_seconds * 0 + 5", "healthprobe_check_duration_seconds * 0 + 1"
    )


def firing(base: str) -> set[tuple[str, str, str]]:
    """(alert, instance or job, check) of every firing alert."""
    response = httpx.get(f"{base}/api/v1/alerts", timeout=5.0)
    response.raise_for_status()
    return {
        (
            a["labels"]["alertname"],
            a["labels"].get("instance", a["labels"]["job"]),
            a["labels"].get("check", ""),
        )
        for a in response.json()["data"]["alerts"]
        if a["state"] == "firing"
    }


def wait_alerts(
    base: str,
    predicate: Callable[[set[tuple[str, str, str]]], bool],
    what: str,
    timeout: float = 25.0,
) -> set[tuple[str, str, str]]:
    deadline = time.monotonic() + timeout
    seen: set[tuple[str, str, str]] = set()
    while time.monotonic() < deadline:
        seen = firing(base)
        if predicate(seen):
            return seen
        time.sleep(0.25)
    pytest.fail(f"{what} within {timeout} s; firing: {sorted(seen)}")


def test_a_real_prometheus_fires_and_resolves_the_rules_across_three_replicas(
    tmp_path: Path,
) -> None:
    binary = prometheus_binary()
    with replicas(tmp_path, ("a", "b", "c")) as fleet:
        (tmp_path / RULES.name).write_text(fast_rules(RULES.read_text()))
        targets = ", ".join(f"'{r.instance}'" for r in fleet.values())
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n"
            "  scrape_interval: 500ms\n"
            "  scrape_timeout: 500ms\n"
            "  evaluation_interval: 500ms\n"
            f"rule_files: ['{RULES.name}']\n"
            "scrape_configs:\n"
            "  - job_name: shop\n"
            f"    static_configs: [{{targets: [{targets}]}}]\n"
        )
        port = free_port()
        log = tmp_path / "prometheus.log"
        args = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with process(args, log, cwd=tmp_path) as proc:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/-/ready", proc, log)
            a, b, c = fleet["a"], fleet["b"], fleet["c"]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                ratio = query(base, 'job:healthprobe_ready:ratio{job="shop"}')
                if ratio and ratio[0]["value"][1] == "1":
                    break
                time.sleep(0.25)
            assert ratio, "no readiness ratio recorded"
            assert ratio[0]["value"][1] == "1", ratio
            assert firing(base) == set()
            # Every dashboard query is valid PromQL over these series.
            for expr in dashboard_queries():
                assert isinstance(query(base, expr.replace("$job", ".+")), list)

            # a fails for good, c flaps, b gets slow.
            a.state.write_text("fail")
            b.slow.write_text("0.9")
            for _ in range(3):
                c.state.write_text("fail")
                time.sleep(1.2)
                c.state.write_text("ok")
                time.sleep(1.2)
            seen = wait_alerts(
                base,
                lambda s: (
                    {
                        ("HealthprobeUnready", a.instance, ""),
                        ("HealthprobeCheckFlapping", c.instance, "dep"),
                        ("HealthprobeCheckNearTimeout", b.instance, "slow"),
                    }
                    <= s
                ),
                "unready a, flapping c and slow b did not all fire",
            )
            assert ("HealthprobeUnready", b.instance, "") not in seen
            assert not any(name == "HealthprobeCheckFailingOnEveryReplica" for name, *_ in seen)

            # Every replica fails dep at once: the fleet alert.
            b.state.write_text("fail")
            c.state.write_text("fail")
            wait_alerts(
                base,
                lambda s: ("HealthprobeCheckFailingOnEveryReplica", "shop", "dep") in s,
                "the every-replica alert did not fire",
            )

            # All recover: every alert resolves (flapping once its window has passed).
            for replica in fleet.values():
                replica.state.write_text("ok")
                replica.slow.write_text("0")
            wait_alerts(
                base,
                lambda s: (
                    not any(
                        name in ("HealthprobeUnready", "HealthprobeCheckFailingOnEveryReplica")
                        or (name == "HealthprobeCheckNearTimeout")
                        for name, *_ in s
                    )
                ),
                "unready, every-replica and near-timeout alerts did not resolve",
            )
            wait_alerts(base, lambda s: s == set(), "flapping did not resolve", timeout=30.0)
            assert proc.poll() is None, log.read_text()[-3000:]
