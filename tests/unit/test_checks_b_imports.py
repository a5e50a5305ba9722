"""The Django, gRPC, Prometheus and S3 check modules import their drivers lazily, naming extras."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from healthprobe.checks.django import (
    DjangoCacheCheck,
    DjangoDatabaseCheck,
    DjangoMigrationsCheck,
    DjangoStorageCheck,
)
from healthprobe.checks.grpc import GrpcHealthCheck
from healthprobe.checks.prometheus import PrometheusQueryCheck
from healthprobe.checks.s3 import S3BucketCheck

from ._drivers import assert_missing_driver_names_the_extra, drivers_imported_by

MODULES = [
    "healthprobe.checks.django",
    "healthprobe.checks.grpc",
    "healthprobe.checks.prometheus",
    "healthprobe.checks.s3",
]
DRIVERS = ["django", "grpc", "grpc_health", "httpx", "boto3", "botocore"]

CASES: list[tuple[str, list[str], Callable[[], object]]] = [
    ("django", ["django"], DjangoDatabaseCheck),
    ("django", ["django"], DjangoCacheCheck),
    ("django", ["django"], DjangoStorageCheck),
    ("django", ["django"], DjangoMigrationsCheck),
    ("grpc", ["grpc"], lambda: GrpcHealthCheck("127.0.0.1:50051")),
    (
        "grpc",
        ["grpc_health", "grpc_health.v1", "grpc_health.v1.health_pb2"],
        lambda: GrpcHealthCheck("127.0.0.1:50051"),
    ),
    ("http", ["httpx"], lambda: PrometheusQueryCheck("http://127.0.0.1:9090", "up")),
    ("s3", ["boto3"], lambda: S3BucketCheck("uploads")),
]


@pytest.mark.parametrize(("extra", "hidden", "make"), CASES)
def test_missing_driver_names_the_extra(
    extra: str, hidden: list[str], make: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_missing_driver_names_the_extra(extra, hidden, make, monkeypatch)


def test_importing_the_check_modules_imports_no_driver() -> None:
    assert drivers_imported_by(MODULES, DRIVERS) == []
