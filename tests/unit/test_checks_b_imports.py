"""The Django, gRPC, Prometheus and S3 check modules import their drivers lazily, naming extras."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from healthprobe._optional import MissingDependencyError
from healthprobe.checks.django import (
    DjangoCacheCheck,
    DjangoDatabaseCheck,
    DjangoMigrationsCheck,
    DjangoStorageCheck,
)
from healthprobe.checks.grpc import GrpcHealthCheck
from healthprobe.checks.prometheus import PrometheusQueryCheck
from healthprobe.checks.s3 import S3BucketCheck

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
