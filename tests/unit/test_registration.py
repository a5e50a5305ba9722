"""Bad registration fails at once, naming the check and the problem."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from healthprobe import ConfigurationError, Health, UnknownCheckError, UnknownProbeError


def ok() -> bool:
    return True


BAD: list[tuple[str, Any, dict[str, Any], str]] = [
    ("non-positive timeout", ok, {"timeout": 0}, "check 'ok': timeout must be a positive"),
    ("negative timeout", ok, {"timeout": -1}, "check 'ok': timeout must be a positive"),
    ("infinite timeout", ok, {"timeout": float("inf")}, "timeout must be a positive, finite"),
    ("nan timeout", ok, {"timeout": float("nan")}, "timeout must be a number"),
    ("string timeout", ok, {"timeout": "5"}, "timeout must be a number of seconds"),
    ("bool timeout", ok, {"timeout": True}, "timeout must be a number of seconds"),
    ("unknown probe", ok, {"probes": ["raedy"]}, "check 'ok': unknown probe 'raedy'"),
    ("not callable", 42, {"name": "answer"}, "check 'answer': expected a callable"),
    ("lambda without name", lambda: True, {}, "cannot derive a name"),
    ("partial without name", functools.partial(ok), {}, "cannot derive a name"),
    ("bad name", ok, {"name": "my check"}, "check name 'my check' is invalid"),
    ("name with slash", ok, {"name": "a/b"}, "check name 'a/b' is invalid"),
    ("name with colon", ok, {"name": "db:x"}, "check name 'db:x' is invalid"),
    ("empty name", ok, {"name": ""}, "check name '' is invalid"),
    ("zero interval", ok, {"interval": 0}, "check 'ok': interval must be a positive"),
    ("negative delay", ok, {"interval": 1, "initial_delay": -1}, "initial_delay must be zero"),
    ("negative ttl", ok, {"cache_ttl": -1}, "check 'ok': cache_ttl must be zero"),
    ("zero staleness", ok, {"max_staleness": 0}, "max_staleness must be a positive"),
    ("staleness < ttl", ok, {"cache_ttl": 10, "max_staleness": 5}, "shorter than cache_ttl"),
    ("staleness < interval", ok, {"interval": 10, "max_staleness": 5}, "shorter than interval"),
    ("zero failure threshold", ok, {"failure_threshold": 0}, "failure_threshold must be"),
    ("float success threshold", ok, {"success_threshold": 1.5}, "success_threshold must be"),
    ("critical not bool", ok, {"critical": "yes"}, "critical must be True or False"),
]


@pytest.mark.parametrize(
    ("check", "options", "message"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_registration_raises_naming_the_problem(
    check: Any, options: dict[str, Any], message: str
) -> None:
    health = Health()
    with pytest.raises(ConfigurationError) as caught:
        health.add(check, **options)
    assert message in str(caught.value)
    assert health.names() == ()  # nothing half-registered


def test_duplicate_names_are_rejected_case_insensitively() -> None:
    health = Health()
    health.add(ok, name="Database")
    with pytest.raises(ConfigurationError, match="check 'database': a check named 'Database'"):
        health.add(ok, name="database")


def test_custom_groups_must_be_declared_and_valid() -> None:
    health = Health(groups=["deep"])
    health.add(ok, probes=["ready", "deep"])
    assert health.names("deep") == ("ok",)
    with pytest.raises(ConfigurationError, match="probe 'ready' is declared twice"):
        Health(groups=["ready"])
    with pytest.raises(ConfigurationError, match="probe name 'a b' is invalid"):
        Health(groups=["a b"])
    with pytest.raises(ConfigurationError, match="deadline must be a positive"):
        Health(deadline=0)
    with pytest.raises(ConfigurationError, match="unknown_passes names unknown probe 'x'"):
        Health(unknown_passes=["x"])


def test_defaults_and_derived_names() -> None:
    class Probe:
        name = "cache"
        timeout = 1.5
        component_type = "datastore"
        secrets = ("hunter2",)

        def check(self) -> bool:
            return True

    async def database() -> bool:
        return True

    health = Health()
    health.add(Probe())
    health.add(database, secrets=["S3cret"])
    cache = health.spec("cache")
    assert (cache.timeout, cache.component_type, cache.secrets) == (1.5, "datastore", ("hunter2",))
    db = health.spec("database")
    assert db.timeout == 5.0
    assert db.critical is True
    assert db.probes == frozenset({"ready"})
    assert db.secrets == ("S3cret",)
    assert health.names() == ("cache", "database")
    assert health.names("ready") == ("cache", "database")
    assert health.names("live") == ()
    polled = health.add(ok, name="polled", interval=2, timeout=1)
    assert polled is ok
    assert health.spec("polled").max_staleness == 5.0  # 2 * interval + timeout


def test_decorator_forms_register_and_return_the_function() -> None:
    health = Health()

    @health.check
    def plain() -> bool:
        return True

    @health.check(name="named", probes=["live"], critical=False)
    async def other() -> bool:
        return True

    assert plain() is True
    assert health.names() == ("plain", "named")
    assert health.names("live") == ("named",)


@pytest.mark.asyncio
async def test_unknown_names_raise_lookup_errors() -> None:
    health = Health()
    health.add(ok)
    with pytest.raises(UnknownProbeError):
        await health.arun("nope")
    with pytest.raises(UnknownCheckError, match="no check named 'missing' in probe 'ready'"):
        await health.arun("ready", only="missing")
    with pytest.raises(UnknownCheckError):
        await health.arun("live", only="ok")  # registered, but not in that probe
    with pytest.raises(UnknownCheckError):
        health.spec("missing")
