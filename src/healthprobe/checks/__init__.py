"""Ready-made checks for the dependencies real services have.

One module per dependency, each behind its own extra; the driver is imported
only when a check is created, and a missing one raises
:class:`~healthprobe._optional.MissingDependencyError` naming the
``pip install 'healthprobe[extra]'`` to run.  The classes are importable
from here too (``from healthprobe.checks import PostgresCheck``); each is
loaded on first use, so importing this package imports no driver.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .alembic import AlembicCheck, AsyncAlembicCheck
    from .celery import CeleryWorkersCheck
    from .disk import DiskCheck
    from .django import (
        DjangoCacheCheck,
        DjangoDatabaseCheck,
        DjangoMigrationsCheck,
        DjangoStorageCheck,
    )
    from .dns import DnsCheck
    from .files import FileAgeCheck, InodesCheck, WritableCheck
    from .grpc import GrpcHealthCheck
    from .http import HttpCheck
    from .loop_lag import LoopLagCheck
    from .mqtt import MqttCheck
    from .mysql import MySQLCheck, SyncMySQLCheck
    from .nats import NatsCheck
    from .ping import PingCheck
    from .postgres import PostgresCheck, SyncPostgresCheck
    from .process import OpenFilesCheck, ThreadsCheck
    from .prometheus import PrometheusQueryCheck
    from .rabbitmq import RabbitMQCheck
    from .redis import RedisCheck, SyncRedisCheck
    from .s3 import S3BucketCheck
    from .sqlalchemy import AsyncSQLAlchemyCheck, SQLAlchemyCheck
    from .sqlite import SQLiteCheck
    from .system import CpuCheck, LoadCheck, MemoryCheck
    from .tcp import TcpCheck
    from .tls import TlsCheck

_MODULES = {
    "AlembicCheck": "alembic",
    "AsyncAlembicCheck": "alembic",
    "AsyncSQLAlchemyCheck": "sqlalchemy",
    "CeleryWorkersCheck": "celery",
    "CpuCheck": "system",
    "DiskCheck": "disk",
    "DjangoCacheCheck": "django",
    "DjangoDatabaseCheck": "django",
    "DjangoMigrationsCheck": "django",
    "DjangoStorageCheck": "django",
    "DnsCheck": "dns",
    "FileAgeCheck": "files",
    "GrpcHealthCheck": "grpc",
    "HttpCheck": "http",
    "InodesCheck": "files",
    "LoadCheck": "system",
    "LoopLagCheck": "loop_lag",
    "MemoryCheck": "system",
    "MqttCheck": "mqtt",
    "MySQLCheck": "mysql",
    "NatsCheck": "nats",
    "OpenFilesCheck": "process",
    "PingCheck": "ping",
    "PostgresCheck": "postgres",
    "PrometheusQueryCheck": "prometheus",
    "RabbitMQCheck": "rabbitmq",
    "RedisCheck": "redis",
    "S3BucketCheck": "s3",
    "SQLAlchemyCheck": "sqlalchemy",
    "SQLiteCheck": "sqlite",
    "SyncMySQLCheck": "mysql",
    "SyncPostgresCheck": "postgres",
    "SyncRedisCheck": "redis",
    "TcpCheck": "tcp",
    "ThreadsCheck": "process",
    "TlsCheck": "tls",
    "WritableCheck": "files",
}

__all__ = [
    "AlembicCheck",
    "AsyncAlembicCheck",
    "AsyncSQLAlchemyCheck",
    "CeleryWorkersCheck",
    "CpuCheck",
    "DiskCheck",
    "DjangoCacheCheck",
    "DjangoDatabaseCheck",
    "DjangoMigrationsCheck",
    "DjangoStorageCheck",
    "DnsCheck",
    "FileAgeCheck",
    "GrpcHealthCheck",
    "HttpCheck",
    "InodesCheck",
    "LoadCheck",
    "LoopLagCheck",
    "MemoryCheck",
    "MqttCheck",
    "MySQLCheck",
    "NatsCheck",
    "OpenFilesCheck",
    "PingCheck",
    "PostgresCheck",
    "PrometheusQueryCheck",
    "RabbitMQCheck",
    "RedisCheck",
    "S3BucketCheck",
    "SQLAlchemyCheck",
    "SQLiteCheck",
    "SyncMySQLCheck",
    "SyncPostgresCheck",
    "SyncRedisCheck",
    "TcpCheck",
    "ThreadsCheck",
    "TlsCheck",
    "WritableCheck",
]


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'healthprobe.checks' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
