"""A config error never repeats a string value, whatever the key (issue 17.4), and the
validation gaps of issue 17.10 are closed: every bad value names its key, at load time.

``ConfigError``'s contract is that a message names the file, the key and the problem
but never a string value: a value may be a secret (``${VAR}`` from the environment, or
a DSN written in the file).  The tests below write a canary string (and a list holding
it) into every key a config file has (the ``[health]`` and ``[serve]`` keys, every
engine option, every option of every built-in check's constructor), both substituted
from the environment and written literally, and look for it in whatever error results.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import pytest

from healthprobe import ConfigurationError, Health
from healthprobe.config import BUILTIN_CHECKS, ENGINE_OPTIONS, ConfigError, load
from healthprobe.config._http import SERVE_ONLY, _handler_options
from healthprobe.config._registry import constructor_keys
from healthprobe.integrations.asgi import HealthMiddleware

from .test_config import EVERY_TYPE

CANARY = "CANARY-9f3e-from-the-environment"
LITERAL = "LITERAL-7c1d-written-in-the-file"


def _health_keys() -> list[tuple[str, str]]:
    return [("health", key) for key in ("version", "deadline", "groups", "unknown_passes")]


def _serve_keys() -> list[tuple[str, str]]:
    keys = {*SERVE_ONLY, "drain", *_handler_options()}
    return [("serve", key) for key in sorted(keys)]


def _check_keys() -> list[tuple[str, str]]:
    keys = [("tcp", key) for key in ENGINE_OPTIONS]
    for kind, entry in sorted(BUILTIN_CHECKS.items()):
        factory = getattr(importlib.import_module(entry.module), entry.cls)
        for key in sorted(constructor_keys(factory, entry.target, toml_only=True)):
            if key != "name":
                keys.append((kind, key))
    return keys


EVERY_KEY = [*_health_keys(), *_serve_keys(), *_check_keys()]


def _text(table: str, key: str, value: str) -> str:
    if table in ("health", "serve"):
        return f"[{table}]\n{key} = {value}\n"
    # The check's other keys first; the key under test overrides its line, if any.
    base = "\n".join(
        line for line in EVERY_TYPE[table].splitlines() if not line.startswith(f"{key} ")
    )
    return f'[checks.c]\ntype = "{table}"\n{base}\n{key} = {value}\n'


def test_every_key_is_covered() -> None:
    assert ("serve", "prefix") in EVERY_KEY
    assert ("serve", "ui_refresh") in EVERY_KEY
    assert ("tcp", "failure_threshold") in EVERY_KEY
    assert ("http", "expected_status") in EVERY_KEY
    assert len(EVERY_KEY) > 100


@pytest.mark.parametrize(("table", "key"), EVERY_KEY, ids=[f"{t}.{k}" for t, k in EVERY_KEY])
@pytest.mark.parametrize("form", ["env", "env-list", "literal", "literal-list"])
def test_no_error_repeats_a_string_value(tmp_path: Path, table: str, key: str, form: str) -> None:
    secret = CANARY if form.startswith("env") else LITERAL
    value = '"${HP_CANARY}"' if form.startswith("env") else f'"{LITERAL}"'
    if form.endswith("list"):
        value = f"[{value}]"
    path = tmp_path / "healthprobe.toml"
    path.write_text(_text(table, key, value))
    health: Health | None = None
    error: ConfigError | None = None
    try:
        config = load(path, environ={"HP_CANARY": CANARY})
        health = config.build()
        HealthMiddleware(_app, health, **config.http_options())
    except ConfigError as exc:  # any other exception fails the test
        error = exc
    finally:
        if health is not None:
            health.stop()
    if error is not None:
        assert secret not in str(error), str(error)
        assert error.key, str(error)  # it names a key


async def _app(scope: object, receive: object, send: object) -> None:
    raise AssertionError("never called")


# issue 17.10: accepted before, or failing without naming the option.
GAPS = [
    (
        'type = "http"\nurl = "http://127.0.0.1/"\nexpected_status = "200"',
        "checks.c.expected_status",
    ),
    ('type = "http"\nurl = "http://127.0.0.1/"\nheaders = "x"', "checks.c.headers"),
    ('type = "tcp"\nhost = "h"\nport = 1\nsecrets = 5', "checks.c.secrets"),
    ('type = "tcp"\nhost = "h"\nport = 1\nsecrets = [5]', "checks.c.secrets"),
    ('type = "tcp"\nhost = "h"\nport = 1\ncomponent_type = 5', "checks.c.component_type"),
]
SERVE_GAPS = [
    ("ui_refresh = -5", "serve.ui_refresh", "must be a whole number of seconds >= 1, not -5"),
    ("ui_refresh = -1", "serve.ui_refresh", "must be a whole number of seconds >= 1, not -1"),
    ("drain = nan", "serve.drain", "must be zero or a positive number of seconds"),
    ('details = "sometimes"', "serve.details", "must be one of authorized, always, never"),
    ('prefix = "health/"', "serve.prefix", "must start with '/' and not end with one"),
    ('token = "short"', "serve.token", "must be at least 16 characters long"),
    ("warn_status = 300", "serve.warn_status", "must be 200 or 429, not 300"),
    ("draining_status = 500", "serve.draining_status", "must be 503 or 404, not 500"),
    ('metrics_path = "metrics"', "serve.metrics_path", "must start with '/'"),
]


@pytest.mark.parametrize(("table", "key"), GAPS)
def test_a_bad_check_option_names_its_key(tmp_path: Path, table: str, key: str) -> None:
    path = tmp_path / "healthprobe.toml"
    path.write_text(f"[checks.c]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load(path, environ={}).build()
    assert caught.value.key == key, str(caught.value)


@pytest.mark.parametrize(("line", "key", "problem"), SERVE_GAPS)
def test_a_bad_serve_value_fails_at_load_naming_its_key(
    tmp_path: Path, line: str, key: str, problem: str
) -> None:
    # At load: `healthprobe check` validates [serve] as `serve` does.
    path = tmp_path / "healthprobe.toml"
    path.write_text(f"[serve]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_a_single_secret_string_is_one_secret_not_its_characters() -> None:
    health = Health()

    def db() -> bool:
        raise RuntimeError("a database is down: abc")

    health.add(db, secrets="abc")
    try:
        report = health.run()
    finally:
        health.stop()
    assert report.checks["db"].result.output == "RuntimeError: a database is down: ***"


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"secrets": 5}, "secrets must be a list of strings, not int"),
        ({"secrets": [5]}, "secrets must be a list of strings"),
        ({"component_type": 5}, "component_type must be a string, not int"),
    ],
)
def test_bad_add_options_name_the_option(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        Health().add(lambda: True, name="c", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("options", [{"drain": math.nan}, {"ui_refresh": -1}, {"ui_refresh": -5}])
def test_bad_http_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        HealthMiddleware(_app, Health(), **options)  # type: ignore[arg-type]
