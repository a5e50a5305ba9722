"""The broker/HTTP check modules import their drivers lazily, and say what to install."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from healthprobe._optional import MissingDependencyError
from healthprobe.checks.http import HttpCheck
from healthprobe.checks.mqtt import MqttCheck
from healthprobe.checks.nats import NatsCheck
from healthprobe.checks.rabbitmq import RabbitMQCheck
from healthprobe.checks.redis import RedisCheck, SyncRedisCheck

MODULES = [
    "healthprobe.checks.redis",
    "healthprobe.checks.rabbitmq",
    "healthprobe.checks.mqtt",
    "healthprobe.checks.nats",
    "healthprobe.checks.http",
]
DRIVERS = ["redis", "aio_pika", "aiormq", "aiomqtt", "paho", "nats", "httpx", "httpcore"]

CASES: list[tuple[str, list[str], Callable[[], object]]] = [
    ("redis", ["redis", "redis.asyncio"], lambda: RedisCheck("redis://127.0.0.1:6379")),
    ("redis", ["redis"], lambda: SyncRedisCheck("redis://127.0.0.1:6379")),
    ("rabbitmq", ["aio_pika"], lambda: RabbitMQCheck("amqp://127.0.0.1/")),
    ("mqtt", ["aiomqtt"], lambda: MqttCheck("mqtt://127.0.0.1")),
    ("nats", ["nats"], lambda: NatsCheck("nats://127.0.0.1:4222")),
    ("http", ["httpx"], lambda: HttpCheck("http://127.0.0.1/health")),
]


@pytest.mark.parametrize(("extra", "hidden", "make"), CASES)
def test_missing_driver_names_the_extra(
    extra: str, hidden: list[str], make: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in hidden:
        monkeypatch.setitem(sys.modules, module, None)  # "not installed"
    with pytest.raises(MissingDependencyError, match=rf"pip install 'healthprobe\[{extra}\]'"):
        make()


def test_importing_the_check_modules_imports_no_driver() -> None:
    code = (
        "import json, sys\n"
        "import healthprobe\n"
        f"for name in {MODULES!r}:\n"
        "    __import__(name)\n"
        f"print(json.dumps(sorted(m for m in {DRIVERS!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == []
