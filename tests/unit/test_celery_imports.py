"""The Celery check and integration import Celery lazily, name their extra, validate options."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from healthprobe import ConfigurationError, Health
from healthprobe._optional import MissingDependencyError
from healthprobe.checks.celery import CeleryWorkersCheck
from healthprobe.integrations import celery as celery_health


def test_importing_the_modules_imports_no_celery() -> None:
    code = (
        "import json, sys\n"
        "import healthprobe.checks.celery, healthprobe.integrations.celery\n"
        "names = ('celery', 'kombu', 'billiard')\n"
        "print(json.dumps(sorted(m for m in names if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: CeleryWorkersCheck("amqp://guest:guest@127.0.0.1:5672//"),
        lambda: celery_health.install(object(), Health()),
    ],
)
def test_missing_celery_names_the_extra(
    make: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("celery", "celery.signals", "celery.bootsteps"):
        monkeypatch.setitem(sys.modules, module, None)  # "not installed"
    with pytest.raises(MissingDependencyError, match=r"pip install 'healthprobe\[celery\]'"):
        make()


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"reply_timeout": -1}, "reply_timeout must be a positive number"),
        ({"min_workers": 0}, "min_workers must be an integer >= 1"),
        ({"workers": [""]}, "workers must be non-empty strings"),
        ({"queues": [3]}, "queues must be non-empty strings"),
    ],
)
def test_bad_check_options_name_the_check(options: dict[str, object], text: str) -> None:
    with pytest.raises(ConfigurationError, match=text) as caught:
        CeleryWorkersCheck("amqp://guest:guest@127.0.0.1:5672//", name="workers", **options)  # type: ignore[arg-type]
    assert "'workers'" in str(caught.value)


def test_the_broker_url_is_a_secret_of_the_check() -> None:
    check = CeleryWorkersCheck("amqp://app:S3cret-pw@broker.internal:5672//")
    assert "S3cret-pw" in check.secrets
    assert "broker.internal" in check.secrets
    check.close()


def test_install_validates_the_shutdown_cap() -> None:
    from celery import Celery

    app = Celery("unit", broker="memory://", set_as_current=False)
    with pytest.raises(ConfigurationError, match="shutdown_cap"):
        celery_health.install(app, Health(), shutdown_cap=0)
    with pytest.raises(ConfigurationError, match="max_age must be a positive number"):
        celery_health.install(app, Health(), max_age="30")  # type: ignore[arg-type]


def test_install_registers_the_consumer_and_broker_checks() -> None:
    from celery import Celery

    app = Celery("unit", broker="memory://", set_as_current=False)
    health = Health()
    wiring = celery_health.install(app, health, max_age=12)
    try:
        assert health.names("live") == (celery_health.CONSUMER,)
        assert health.names("ready") == (celery_health.CONSUMER, celery_health.BROKER)
        assert wiring.consumer.max_age == 12
        assert health.spec(celery_health.CONSUMER).interval == 1.0  # polled: free to read
        assert any(step.__name__ == "HealthprobeHeartbeat" for step in app.steps["consumer"])
    finally:
        wiring.disconnect()
