"""The public surface, pinned: every public module imports and exports exactly these names.

Everything else (``healthprobe.engine``, ``.http``, ``.observe`` and any
``_private`` module) may move without notice; these may not.  A change here
is a change of the public API: it belongs in CHANGELOG.md.
"""

from __future__ import annotations

import importlib

import pytest

#: public module -> its ``__all__``.
EXPORTED: dict[str, list[str]] = {
    "healthprobe": [
        "BUILTIN_PROBES",
        "CheckReport",
        "CheckResult",
        "CheckSpec",
        "ConfigurationError",
        "Health",
        "Heartbeat",
        "Reading",
        "Report",
        "Reported",
        "Status",
        "UnknownCheckError",
        "UnknownProbeError",
        "__version__",
        "interpret",
        "sanitize",
        "serve_in_thread",
    ],
    "healthprobe.checks": [
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
    ],
    "healthprobe.cli": [
        "main",
    ],
    "healthprobe.config": [
        "BUILTIN_CHECKS",
        "Builtin",
        "CheckConfig",
        "Config",
        "ConfigError",
        "ENGINE_OPTIONS",
        "load",
        "parse",
    ],
    "healthprobe.integrations.asgi": [
        "HealthApp",
        "HealthMiddleware",
    ],
    "healthprobe.integrations.django": [
        "HealthProbeMiddleware",
        "load_health",
        "process_start",
        "start_all",
        "urls",
    ],
    "healthprobe.integrations.django_app.apps": [
        "HealthProbeConfig",
    ],
    "healthprobe.integrations.fastapi": [
        "REPORT_SCHEMA",
        "install",
    ],
    "healthprobe.integrations.flask": [
        "EXTENSION_KEY",
        "HealthProbe",
        "blueprint",
    ],
    "healthprobe.integrations.grpc": [
        "AsyncHealthServicer",
        "HealthServicer",
        "Target",
    ],
    "healthprobe.integrations.prometheus": [
        "HealthCollector",
        "register",
    ],
    "healthprobe.integrations.starlette": [
        "install",
        "wrap_lifespan",
    ],
    "healthprobe.integrations.wsgi": [
        "HealthApp",
        "HealthMiddleware",
        "ProcessStart",
        "StartResponse",
        "WSGIApp",
    ],
    "healthprobe.logfilter": [
        "ACCESS_LOGGERS",
        "PROBE_PATHS",
        "ProbeAccessFilter",
        "install",
    ],
    "healthprobe.observability": [
        "AlertPolicy",
        "CheckHistory",
        "CheckMetrics",
        "CheckSpans",
        "DEFAULT_LEVELS",
        "Entry",
        "History",
        "METRICS_CONTENT_TYPE",
        "MaintenanceWindow",
        "MetricFamily",
        "NetworkGuard",
        "StatusChange",
        "StatusChanges",
        "TransitionLog",
        "WebhookNotifier",
        "check_metrics",
        "collect",
        "content_security_policy",
        "pagerduty_events",
        "render_metrics",
        "render_status_page",
        "status_page",
        "suppress_instrumentation",
        "teams_workflow",
        "trace_checks",
        "webhook_payload",
    ],
}


@pytest.mark.parametrize("module", sorted(EXPORTED))
def test_the_public_module_exports_exactly_its_names(module: str) -> None:
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == EXPORTED[module]


@pytest.mark.parametrize(
    ("module", "name"), [(module, name) for module, names in EXPORTED.items() for name in names]
)
def test_every_exported_name_resolves(module: str, name: str) -> None:
    imported = importlib.import_module(module)
    assert getattr(imported, name) is not None
