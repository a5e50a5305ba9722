"""The config file: every validation error names the file, the key and the problem."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import healthprobe.checks
from healthprobe import Health, Status
from healthprobe.checks.tcp import TcpCheck
from healthprobe.config import BUILTIN_CHECKS, ENGINE_OPTIONS, ConfigError, load
from healthprobe.config._adapters import OwnedEngine


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "healthprobe.toml"
    path.write_text(text)
    return path


# (toml, the key the error names, a fragment of the problem)
LOAD_ERRORS = [
    ("bogus = 1\n", "bogus", "unknown key (expected one of: health, serve, checks)"),
    ("[health]\ndeadline = 0\n", "health.deadline", "must be a positive number of seconds"),
    ("[health]\nversion = 1\n", "health.version", "must be a string"),
    ('[health]\ngroups = "deep"\n', "health.groups", "must be a list of strings"),
    ("[health]\ncolour = 1\n", "health.colour", "unknown key"),
    ("checks = 3\n", "checks", "must be a table"),
    ('[checks]\n"a/b" = {type = "tcp"}\n', "checks.a/b", "check name 'a/b' is invalid"),
    ("[checks.x]\ntimeout = 1\n", "checks.x", "needs exactly one of type = ... or callable"),
    ('[checks.x]\ntype = "tcp"\ncallable = "a:b"\n', "checks.x", "needs exactly one of"),
    ('[checks.x]\ntype = "mongodb"\n', "checks.x.type", "unknown check type (known: postgres"),
    ('[checks.x]\ncallable = "nocolon"\n', "checks.x.callable", "must look like"),
    ('[checks.x]\ntype = "tcp"\nname = "y"\n', "checks.x.name", "the check's name is its table"),
    ('[checks.x]\ntype = "tcp"\ntimeout = "2"\n', "checks.x.timeout", "not a str"),
    ('[checks.x]\ntype = "tcp"\ntimeout = 0\n', "checks.x.timeout", "positive number"),
    ('[checks.x]\ntype = "tcp"\ntimeout = inf\n', "checks.x.timeout", "positive number"),
    ('[checks.x]\ntype = "tcp"\ninterval = -1\n', "checks.x.interval", "positive number"),
    ('[checks.x]\ntype = "tcp"\ncache_ttl = -1\n', "checks.x.cache_ttl", "zero or a positive"),
    ('[checks.x]\ntype = "tcp"\ncritical = "yes"\n', "checks.x.critical", "true or false"),
    ('[checks.x]\ntype = "tcp"\nenabled = 1\n', "checks.x.enabled", "true or false"),
    ('[checks.x]\ntype = "tcp"\nfailure_threshold = 0\n', "checks.x.failure_threshold", ">= 1"),
    ('[checks.x]\ntype = "tcp"\nprobes = [1]\n', "checks.x.probes", "a list of strings"),
    (
        '[checks.x]\ntype = "tcp"\nprobes = ["readiness"]\n',
        "checks.x.probes",
        "names an unknown probe (known: live, ready, startup and the [health] groups)",
    ),
    ("[health]\ngroups = ['ready']\n", "health.groups", "declares a probe twice, or a built-in"),
    ("[health]\ngroups = ['a/b']\n", "health.groups", "holds an invalid name"),
    ("[health]\nunknown_passes = ['deep']\n", "health.unknown_passes", "names an unknown probe"),
    (
        '[checks.x]\ntype = "postgres"\ndsn = "${HP_UNSET_VARIABLE}"\n',
        "checks.x.dsn",
        "environment variable HP_UNSET_VARIABLE is not set",
    ),
    ('[checks.x]\ntype = "redis"\nurl = "${BROKEN"\n', "checks.x.url", "malformed ${...}"),
    ("[serve]\nport = 70000\n", "serve.port", "must be 0-65535"),
    ('[serve]\nport = "80"\n', "serve.port", "expected an integer, got a string"),
    ("[serve]\ndrain = -1\n", "serve.drain", "zero or a positive number"),
    ('[serve]\ndetails = ["x"]\n', "serve.details", "expected a string, got a list"),
    ("[serve]\ncolour = 1\n", "serve.colour", "unknown key (expected one of: access_log"),
    ("[checks.x\n", "", "invalid TOML"),
]


@pytest.mark.parametrize(("text", "key", "problem"), LOAD_ERRORS)
def test_load_errors_name_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    error = caught.value
    assert (error.path, error.key) == (str(path), key)
    assert problem in error.problem
    assert str(error).startswith(f"{path}: {key}: " if key else f"{path}: ")


# Errors found when the checks are built: the constructor's own options.
BUILD_ERRORS = [
    (
        '[checks.x]\ntype = "tcp"\nhost = "127.0.0.1"\nport = 1\ncolour = "red"\n',
        "checks.x.colour",
        "unknown option (this check takes: host, port, timeout; every check takes: cache_ttl,",
    ),
    ('[checks.x]\ntype = "tcp"\nhost = "127.0.0.1"\n', "checks.x.port", "is required"),
    (
        '[checks.x]\ntype = "tcp"\nhost = "127.0.0.1"\nport = "80"\n',
        "checks.x.port",
        "expected an integer, got a string",
    ),
    (
        '[checks.x]\ntype = "disk"\nused_warn = "90%"\n',
        "checks.x.used_warn",
        "expected a number, got a string",
    ),
    (
        '[checks.x]\ntype = "tcp"\nhost = "h"\nport = 1\ninterval = 5\nmax_staleness = 1\n',
        "checks.x",
        "max_staleness (1 s) is shorter than interval",
    ),
    ('[checks.x]\ncallable = "no_such_module_hp:f"\n', "checks.x.callable", "cannot import it"),
    (
        '[checks.x]\ncallable = "tests.unit._config_targets:Threshold"\nlimit = -1\n',
        "checks.x",
        "limit must not be negative",
    ),
    (
        '[checks.x]\ncallable = "tests.unit._config_targets:Threshold"\nvalue = 1\n',
        "checks.x.limit",
        "is required",
    ),
]


@pytest.mark.parametrize(("text", "key", "problem"), BUILD_ERRORS)
def test_build_errors_name_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    config = load(path, environ={})
    with pytest.raises(ConfigError) as caught:
        config.build()
    assert (caught.value.path, caught.value.key) == (str(path), key)
    assert problem in caught.value.problem


def test_an_error_never_repeats_a_secret_value(tmp_path: Path) -> None:
    secret = "hunter2-Very-Secret"
    path = write(tmp_path, '[checks.cache]\ntype = "redis"\nurl = "${CACHE_URL}"\n')
    config = load(path, environ={"CACHE_URL": f"http://user:{secret}@cache.internal:6379"})
    with pytest.raises(ConfigError) as caught:
        config.build()  # not a redis:// URL: the constructor refuses it
    assert caught.value.key == "checks.cache"
    assert secret not in str(caught.value)
    assert "cache.internal" not in str(caught.value)


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def _run(health: Health) -> dict[str, Status]:
    try:
        report = health.run()
    finally:
        health.stop()
    return {name: check.status for name, check in report.checks.items()}


def test_a_builtin_check_with_engine_options(tmp_path: Path, listening_port: int) -> None:
    path = write(
        tmp_path,
        f"""
[health]
version = "2.0"
groups = ["deep"]

[checks.api]
type = "tcp"
host = "127.0.0.1"
port = {listening_port}
timeout = 1.5
critical = false
probes = ["ready", "deep"]
cache_ttl = 2
failure_threshold = 2
""",
    )
    health = load(path, environ={}).build()
    spec = health.spec("api")
    assert (spec.timeout, spec.critical, spec.probes) == (1.5, False, frozenset({"ready", "deep"}))
    assert (spec.cache_ttl, spec.failure_threshold) == (2.0, 2)
    assert isinstance(spec.target, TcpCheck)
    assert spec.target.timeout == 1.5  # the check got it too (it bounds its own connect)
    assert health.version == "2.0"
    assert _run(health) == {"api": Status.PASS}


def test_custom_callables_and_factories(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[checks.plain]
callable = "tests.unit._config_targets:always_ok"

[checks.limit]
callable = "tests.unit._config_targets:Threshold"
limit = 3

[checks.off]
callable = "tests.unit._config_targets:always_ok"
enabled = false
""",
    )
    health = load(path, environ={}).build()
    assert health.names() == ("plain", "limit")
    assert _run(health) == {"plain": Status.PASS, "limit": Status.WARN}


def test_environment_substitution(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[health]
version = "${APP_VERSION:-0.0.0}-${BUILD}"

[serve]
token = "$${literal}-long-enough"
""",
    )
    config = load(path, environ={"BUILD": "7"})
    assert config.health["version"] == "0.0.0-7"
    assert config.serve["token"] == "${literal}-long-enough"


def test_values_from_the_environment_are_declared_secret(tmp_path: Path) -> None:
    secret = "pa55-from-the-env"
    path = write(
        tmp_path,
        """
[checks.login]
callable = "tests.unit._config_targets:Login"
password = "${HP_TEST_SECRET}"
user = "app"

[checks.plain]
callable = "tests.unit._config_targets:Login"
password = "written-in-the-file"
user = "app"
secrets = ["written-in-the-file"]
""",
    )
    config = load(path, environ={"HP_TEST_SECRET": secret})
    assert config.checks[0].secrets == (secret,)
    health = config.build()
    try:
        report = health.run()
    finally:
        health.stop()
    # The careless check puts the password into its error; the engine scrubs it.
    assert report.checks["login"].result.output == "RuntimeError: app cannot log in with ***"
    assert report.checks["plain"].result.output == "RuntimeError: app cannot log in with ***"


def test_engine_options_are_the_options_of_health_add() -> None:
    accepted = set(inspect.signature(Health.add).parameters) - {"self", "check", "name"}
    assert set(ENGINE_OPTIONS) - {"enabled"} == accepted


def test_every_builtin_type_imports_and_every_check_module_has_a_type() -> None:
    modules = {entry.module for entry in BUILTIN_CHECKS.values()}
    for kind, entry in BUILTIN_CHECKS.items():
        factory = getattr(importlib.import_module(entry.module), entry.cls)
        assert callable(factory), kind
        assert entry.cls in importlib.import_module(entry.module).__all__
    shipped = {
        f"healthprobe.checks.{info.name}"
        for info in pkgutil.iter_modules(healthprobe.checks.__path__)
        if not info.name.startswith("_")
    }
    assert shipped == modules, "a check module is missing from (or stale in) BUILTIN_CHECKS"


def test_a_sqlalchemy_url_becomes_an_engine(tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    path = write(tmp_path, f'[checks.db]\ntype = "sqlalchemy"\nurl = "sqlite:///{database}"\n')
    health = load(path, environ={}).build()
    target = health.spec("db").target
    assert isinstance(target, OwnedEngine)
    pool = target.engine.pool
    assert _run(health) == {"db": Status.PASS}  # runs, then stops: stop() closes the checks
    assert pool.checkedin() == 0  # the engine was disposed: its connection is closed


def test_a_bad_sqlalchemy_url_names_the_key_not_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, '[checks.db]\ntype = "sqlalchemy"\nurl = "${DB_URL}"\n')
    config = load(path, environ={"DB_URL": "nonsense-with-Secret-Pw"})
    with pytest.raises(ConfigError) as caught:
        config.build()
    assert caught.value.key == "checks.db.url"
    assert "ArgumentError" in caught.value.problem
    assert "Secret-Pw" not in str(caught.value)


# Each built-in type with the keys it needs (and a few options): built, not run.
EVERY_TYPE = {
    "postgres": 'dsn = "postgresql://u:pw-123456@127.0.0.1:5432/db"\ndriver = "psycopg"',
    "mysql": 'dsn = "mysql://u:pw-123456@127.0.0.1:3306/db"',
    "sqlalchemy": 'url = "sqlite://"',
    "sqlalchemy_async": 'url = "postgresql+asyncpg://u:pw-123456@127.0.0.1/db"',
    "alembic": 'url = "sqlite://"\nscript_location = "migrations"',
    "alembic_async": 'url = "postgresql+asyncpg://u:pw-123456@127.0.0.1/db"\n'
    'script_location = "migrations"',
    "sqlite": 'path = "app.db"\nquick_check = true',
    "redis": 'url = "redis://127.0.0.1:6379/0"\nmemory_warn = 0.8',
    "rabbitmq": 'url = "amqp://guest:guest@127.0.0.1:5672/"',
    "mqtt": 'url = "mqtt://127.0.0.1:1883"\nround_trip = true',
    "nats": 'servers = ["nats://127.0.0.1:4222"]\njetstream = true',
    "http": 'url = "http://127.0.0.1:8000/readyz"\nexpected_status = [200, 204]\n'
    'headers = {Authorization = "Bearer x"}',
    "tcp": 'host = "127.0.0.1"\nport = 5432',
    "dns": 'hostname = "localhost"\nmin_addresses = 1',
    "ping": 'host = "127.0.0.1"',
    "tls": 'host = "127.0.0.1"\nport = 8443\nwarn_days = 14',
    "disk": 'path = "/"\nused_warn = 80',
    "memory": "warn = 80",
    "cpu": "warn = 80",
    "load": "minutes = 5",
    "loop_lag": "warn = 0.2",
    "django_database": 'alias = "default"',
    "django_cache": 'alias = "default"',
    "django_storage": 'alias = "default"',
    "django_migrations": 'alias = "default"',
    "writable": 'path = "/tmp"',
    "inodes": 'path = "/"\nused_warn = 80',
    "file_age": 'path = "/var/run/heartbeat"\nmax_age = 300\nwarn_age = 120',
    "open_files": "used_warn = 70",
    "threads": 'warn = 500\nsource = "python"',
    "grpc": 'target = "127.0.0.1:50051"\nservice = "payments"\n'
    'metadata = {authorization = "Bearer x"}',
    "prometheus_query": 'url = "http://127.0.0.1:9090"\n'
    'query = "sum(rate(http_errors_total[5m]))"\nfail_above = 0.05\non_empty = "pass"',
    "s3": 'bucket = "uploads"\nendpoint_url = "http://127.0.0.1:9000"\n'
    'access_key_id = "AKIA"\nsecret_access_key = "pw-123456"\nregion = "eu-west-1"',
    "celery": 'broker = "amqp://guest:guest@127.0.0.1:5672//"\nworkers = ["orders@*"]\n'
    'queues = ["orders"]',
    # The catalogue (issue 15, part A)
    "etcd": 'url = "http://127.0.0.1:2379"\nusername = "root"\npassword = "pw-123456"',
    "ldap": 'url = "ldap://127.0.0.1:389"\nbind_dn = "cn=probe"\npassword = "pw-123456"\n'
    'base = "dc=example,dc=org"',
    "memcached": 'address = "127.0.0.1:11211"\nmemory_warn = 0.9',
    "ntp": 'host = "127.0.0.1"\noffset_warn = 0.05',
    "smtp": 'url = "smtp://127.0.0.1:587"\nstarttls = true\nvalidate_certs = false',
    "ssh": 'host = "127.0.0.1"\nusername = "probe"\nclient_keys = ["/run/key"]\npath = "in"',
    "zookeeper": 'hosts = "127.0.0.1:2181,127.0.0.2:2181"\npath = "/app"',
}


def test_every_builtin_type_is_in_the_table_above() -> None:
    assert set(EVERY_TYPE) == set(BUILTIN_CHECKS)


@pytest.mark.parametrize("kind", sorted(EVERY_TYPE))
def test_every_builtin_type_builds_from_toml(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path, f'[checks.c]\ntype = "{kind}"\ntimeout = 3\n{EVERY_TYPE[kind]}\n')
    health = load(path, environ={}).build()
    try:
        target = health.spec("c").target
        if isinstance(target, OwnedEngine):  # the config made its engine from the URL
            target = target.wrapped
        assert type(target).__name__ == BUILTIN_CHECKS[kind].cls
        assert health.spec("c").timeout == 3.0
    finally:
        health.stop()
