"""``healthprobe check``: the installed script against the machine's real PostgreSQL and Redis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import free_port, require_server
from tests.e2e._cli_support import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "healthprobe.toml"
    path.write_text(text)
    return path


@pytest.fixture
def servers() -> None:
    require_server("PostgreSQL", 5432)
    require_server("Redis", 6379)


CONFIG = """
[health]
version = "9.9.9"

[checks.postgres]
type = "postgres"
dsn = "${PG_DSN}"
timeout = 3

[checks.redis]
type = "redis"
url = "${REDIS_URL}"
timeout = 2
"""


@pytest.mark.services
@pytest.mark.usefixtures("servers")
def test_real_postgres_and_redis_pass_as_a_table(tmp_path: Path) -> None:
    config = write(tmp_path, CONFIG)
    proc, _ = run_cli(
        ["check", "--config", str(config)], env={"PG_DSN": PG_DSN, "REDIS_URL": REDIS_URL}
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["CHECK", "STATUS", "LATENCY", "CRITICAL", "REASON"]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert rows["postgres"][1] == "pass"
    assert "answered SELECT 1" in lines[1]
    assert rows["redis"][1] == "pass"
    assert rows["redis"][-1] == "PONG"
    assert lines[-1].startswith("pass (healthy): 2 checks in ")


@pytest.mark.services
@pytest.mark.usefixtures("servers")
@pytest.mark.parametrize("fmt", ["json", "ietf"])
def test_real_servers_as_json_and_ietf(tmp_path: Path, fmt: str) -> None:
    config = write(tmp_path, CONFIG)
    proc, _ = run_cli(
        ["check", "-c", str(config), "--format", fmt],
        env={"PG_DSN": PG_DSN, "REDIS_URL": REDIS_URL},
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["version"] == "9.9.9"
    if fmt == "json":
        assert document["status"] == "healthy"
        assert document["checks"]["postgres"]["status"] == "healthy"
        assert document["checks"]["redis"]["output"] == "PONG"
    else:
        assert document["status"] == "pass"
        assert document["checks"]["postgres:responseTime"][0]["status"] == "pass"
        assert document["checks"]["redis:responseTime"][0]["status"] == "pass"


@pytest.mark.services
@pytest.mark.usefixtures("servers")
def test_a_server_down_fails_and_its_password_never_shows(tmp_path: Path) -> None:
    down = free_port()
    config = write(tmp_path, CONFIG)
    dsn = f"postgresql://postgres:Sup3r-Secret-pw@127.0.0.1:{down}/test"
    proc, elapsed = run_cli(
        ["check", "-c", str(config), "-f", "json"], env={"PG_DSN": dsn, "REDIS_URL": REDIS_URL}
    )
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    assert document["status"] == "unhealthy"
    assert document["checks"]["postgres"]["status"] == "unhealthy"
    assert document["checks"]["redis"]["status"] == "healthy"
    assert "Sup3r-Secret-pw" not in proc.stdout + proc.stderr
    assert elapsed < 30


@pytest.mark.services
@pytest.mark.usefixtures("servers")
def test_a_non_critical_failure_warns_and_strict_makes_it_fail(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        CONFIG
        + f"""
[checks.cache]
type = "redis"
url = "redis://127.0.0.1:{free_port()}/0"
critical = false
""",
    )
    env = {"PG_DSN": PG_DSN, "REDIS_URL": REDIS_URL}
    lenient, _ = run_cli(["check", "-c", str(config)], env=env)
    assert lenient.returncode == 0, lenient.stdout
    assert lenient.stdout.splitlines()[-1].startswith("warn (degraded): 3 checks")
    strict, _ = run_cli(["check", "-c", str(config), "--strict"], env=env)
    assert strict.returncode == 1


def test_a_closed_port_fails_without_any_server(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        f"""
[checks.api]
type = "tcp"
host = "127.0.0.1"
port = {free_port()}
timeout = 1
""",
    )
    proc, _ = run_cli(["check", "-c", str(config)])
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[1].split()[:2] == ["api", "fail"]
    assert proc.stdout.splitlines()[-1].startswith("fail (unhealthy): 1 checks")


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            '[checks.postgres]\ntype = "postgres"\ndsn = "x"\ntimeout = -2\n',
            "checks.postgres.timeout",
            "must be a positive number of seconds, not -2",
        ),
        (
            '[checks.db]\ntype = "postgres"\ndsn = "${HEALTHPROBE_TEST_UNSET_VAR}"\n',
            "checks.db.dsn",
            "environment variable HEALTHPROBE_TEST_UNSET_VAR is not set",
        ),
        ('[checks.x]\ntype = "mongodb"\n', "checks.x.type", "unknown check type"),
        ("[checks.x\n", "", "invalid TOML"),
    ],
)
def test_a_broken_config_exits_2_naming_file_and_key(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    config = write(tmp_path, text)
    proc, _ = run_cli(["check", "-c", str(config)])
    assert proc.returncode == 2
    assert proc.stdout == ""
    where = f"{config}: {key}: " if key else f"{config}: "
    assert proc.stderr.startswith(f"healthprobe: bad config: {where}")
    assert problem in proc.stderr
    assert proc.stderr.count("\n") == 1  # one line, never a traceback


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    proc, _ = run_cli(["check", "-c", str(tmp_path / "nope.toml")])
    assert proc.returncode == 2
    assert "cannot read the file" in proc.stderr


def test_probe_selects_a_probes_checks(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        f'[checks.api]\ntype = "tcp"\nhost = "127.0.0.1"\nport = {free_port()}\ntimeout = 1\n',
    )
    # The failing check is in "ready" only: liveness has no checks and passes.
    live, _ = run_cli(["check", "-c", str(config), "--probe", "live"])
    assert live.returncode == 0, live.stdout
    assert "(no checks to run)" in live.stdout
    unknown, _ = run_cli(["check", "-c", str(config), "--probe", "nope"])
    assert unknown.returncode == 2
    assert "no probe named 'nope'" in unknown.stderr
