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
    from .etcd import EtcdCheck
    from .files import FileAgeCheck, InodesCheck, WritableCheck
    from .grpc import GrpcHealthCheck
    from .http import HttpCheck
    from .ldap import LdapCheck
    from .loop_lag import LoopLagCheck
    from .memcached import MemcachedCheck
    from .mqtt import MqttCheck
    from .mysql import MySQLCheck, SyncMySQLCheck
    from .nats import NatsCheck
    from .ntp import NtpCheck
    from .ping import PingCheck
    from .postgres import PostgresCheck, SyncPostgresCheck
    from .process import OpenFilesCheck, ThreadsCheck
    from .prometheus import PrometheusQueryCheck
    from .rabbitmq import RabbitMQCheck
    from .redis import RedisCheck, SyncRedisCheck
    from .s3 import S3BucketCheck
    from .smtp import SmtpCheck
    from .sqlalchemy import AsyncSQLAlchemyCheck, SQLAlchemyCheck
    from .sqlite import SQLiteCheck
    from .ssh import SshCheck
    from .system import CpuCheck, LoadCheck, MemoryCheck
    from .tcp import TcpCheck
    from .tls import TlsCheck
    from .zookeeper import ZooKeeperCheck

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
    "EtcdCheck": "etcd",
    "FileAgeCheck": "files",
    "GrpcHealthCheck": "grpc",
    "HttpCheck": "http",
    "InodesCheck": "files",
    "LdapCheck": "ldap",
    "LoadCheck": "system",
    "LoopLagCheck": "loop_lag",
    "MemcachedCheck": "memcached",
    "MemoryCheck": "system",
    "MqttCheck": "mqtt",
    "MySQLCheck": "mysql",
    "NatsCheck": "nats",
    "NtpCheck": "ntp",
    "OpenFilesCheck": "process",
    "PingCheck": "ping",
    "PostgresCheck": "postgres",
    "PrometheusQueryCheck": "prometheus",
    "RabbitMQCheck": "rabbitmq",
    "RedisCheck": "redis",
    "S3BucketCheck": "s3",
    "SQLAlchemyCheck": "sqlalchemy",
    "SQLiteCheck": "sqlite",
    "SmtpCheck": "smtp",
    "SshCheck": "ssh",
    "SyncMySQLCheck": "mysql",
    "SyncPostgresCheck": "postgres",
    "SyncRedisCheck": "redis",
    "TcpCheck": "tcp",
    "ThreadsCheck": "process",
    "TlsCheck": "tls",
    "WritableCheck": "files",
    "ZooKeeperCheck": "zookeeper",
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
    "EtcdCheck",
    "FileAgeCheck",
    "GrpcHealthCheck",
    "HttpCheck",
    "InodesCheck",
    "LdapCheck",
    "LoadCheck",
    "LoopLagCheck",
    "MemcachedCheck",
    "MemoryCheck",
    "MqttCheck",
    "MySQLCheck",
    "NatsCheck",
    "NtpCheck",
    "OpenFilesCheck",
    "PingCheck",
    "PostgresCheck",
    "PrometheusQueryCheck",
    "RabbitMQCheck",
    "RedisCheck",
    "S3BucketCheck",
    "SQLAlchemyCheck",
    "SQLiteCheck",
    "SmtpCheck",
    "SshCheck",
    "SyncMySQLCheck",
    "SyncPostgresCheck",
    "SyncRedisCheck",
    "TcpCheck",
    "ThreadsCheck",
    "TlsCheck",
    "WritableCheck",
    "ZooKeeperCheck",
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
