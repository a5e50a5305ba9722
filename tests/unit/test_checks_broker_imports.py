"""The broker/HTTP check modules import their drivers lazily, and say what to install."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from healthprobe.checks.http import HttpCheck
from healthprobe.checks.mqtt import MqttCheck
from healthprobe.checks.nats import NatsCheck
from healthprobe.checks.rabbitmq import RabbitMQCheck
from healthprobe.checks.redis import RedisCheck, SyncRedisCheck

from ._drivers import assert_missing_driver_names_the_extra, drivers_imported_by

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
    assert_missing_driver_names_the_extra(extra, hidden, make, monkeypatch)


def test_importing_the_check_modules_imports_no_driver() -> None:
    assert drivers_imported_by(MODULES, DRIVERS) == []
