"""S3BucketCheck against a real S3-compatible server: moto's, run as a process of its own."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.s3 import S3BucketCheck
from tests.conftest import free_port
from tests.services._owned_servers import OwnedServer
from tests.services._probe_asserts import CANARY, assert_no_canary, timed_failure

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

KEYS = {"access_key_id": "testing", "secret_access_key": "testing-secret"}
BUCKET = "probe-bucket"


REPO = Path(__file__).resolve().parents[2]


def gunicorn_moto(workdir: Path, *env: str) -> OwnedServer:
    """moto's S3 app in gunicorn (threaded, keep-alive) on a spare loopback port."""
    pytest.importorskip("moto.moto_server.werkzeug_app")
    pytest.importorskip("gunicorn")
    port = free_port()
    command = [
        "env", *env, sys.executable, "-m", "gunicorn", "--chdir", str(REPO),
        "-k", "gthread", "--threads", "4", "-w", "1", "--keep-alive", "30",
        "--graceful-timeout", "1", "--no-control-socket", "-b", f"127.0.0.1:{port}",
        "tests.services._moto_app:app",
    ]  # fmt: skip
    return OwnedServer("moto", command, port, workdir)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnedServer]:
    """moto without authentication (any key signs), with one bucket."""
    server = gunicorn_moto(tmp_path_factory.mktemp("moto"))
    server.start()
    try:
        make_bucket(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def moto_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OwnedServer, str, str]]:
    """moto checking signatures and IAM policies: a user allowed HeadBucket, its key pair.

    Its first four requests are let through unauthenticated (moto's
    INITIAL_NO_AUTH_ACTION_COUNT): they create the user, its key, its policy
    and the bucket.
    """
    server = gunicorn_moto(tmp_path_factory.mktemp("moto-auth"), "INITIAL_NO_AUTH_ACTION_COUNT=4")
    server.start()
    try:
        iam = boto3.session.Session().client(
            "iam",
            endpoint_url=endpoint(server),
            region_name="us-east-1",
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="prober")
        key = iam.create_access_key(UserName="prober")["AccessKey"]
        iam.put_user_policy(
            UserName="prober",
            PolicyName="head",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        )
        iam.close()
        make_bucket(server)
        yield server, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        server.stop()


def endpoint(server: OwnedServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def make_bucket(server: OwnedServer) -> None:
    admin = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint(server),
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key_id"],
        aws_secret_access_key=KEYS["secret_access_key"],
    )
    admin.create_bucket(Bucket=BUCKET)
    admin.close()


def check_for(server: OwnedServer, bucket: str = BUCKET, **options: Any) -> S3BucketCheck:
    return S3BucketCheck(
        bucket, endpoint_url=endpoint(server), region="us-east-1", **{**KEYS, **options}
    )


def client_ports(server: OwnedServer) -> set[int]:
    """Remote ports of the connections the server (gunicorn and its worker) holds open now."""
    assert server._process is not None
    parent = psutil.Process(server._process.pid)
    return {
        c.raddr.port
        for process in (parent, *parent.children(recursive=True))
        for c in process.net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == server.port and c.raddr
    }


def run(health: Health, name: str = "s3") -> Any:
    return health.run(None, only=name).checks[name].result


def test_an_existing_bucket_passes(moto: OwnedServer) -> None:
    health = Health()
    health.add(check_for(moto))
    result = run(health)
    health.stop()
    assert result.status is Status.PASS, result.output
    assert result.details["http_status"] == 200
    assert result.component_type == "datastore"


def test_a_missing_bucket_fails(moto: OwnedServer) -> None:
    health = Health()
    health.add(check_for(moto, "no-such-bucket"))
    result = run(health)
    health.stop()
    assert result.status is Status.FAIL
    assert result.output == "no such bucket: 'no-such-bucket'"
    assert result.details["http_status"] == 404


def test_50_runs_use_one_connection(moto: OwnedServer) -> None:
    health = Health()
    health.add(check_for(moto))
    assert run(health).status is Status.PASS
    first = client_ports(moto)
    for _ in range(50):
        assert run(health).status is Status.PASS
    assert client_ports(moto) == first
    assert len(first) == 1
    health.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    check = S3BucketCheck(
        BUCKET, endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1", timeout=1.0, **KEYS
    )
    assert (await timed_failure(check)).output


def test_same_instance_survives_a_server_restart(moto: OwnedServer) -> None:
    health = Health()
    health.add(check_for(moto, timeout=1.0))
    assert run(health).status is Status.PASS
    moto.stop()
    down = run(health)
    assert down.status is Status.FAIL
    assert "\n" not in down.output
    moto.start()
    make_bucket(moto)  # moto keeps its buckets in memory
    up = run(health)
    assert up.status is Status.PASS, up.output
    health.stop()


@pytest.mark.parametrize("where", ["served", "closed"])
def test_canary_secret_never_leaks(
    where: str, moto: OwnedServer, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = moto.port if where == "served" else closed_port
    check = S3BucketCheck(
        BUCKET,
        endpoint_url=f"http://127.0.0.1:{port}",
        region="us-east-1",
        access_key_id="testing",
        secret_access_key=CANARY,
        session_token=f"token-{CANARY}",
        timeout=1.0,
    )
    health = Health()
    health.add(check)
    report = health.run(None, only="s3")
    health.stop()
    result = report.checks["s3"].result
    # moto accepts any signature: served passes, closed fails; neither shows the keys.
    assert result.status is (Status.PASS if where == "served" else Status.FAIL), result.output
    assert any(r.name.startswith("botocore") for r in caplog.records)  # botocore did log
    assert_no_canary(result, report, caplog, check)


def test_users_client_is_used_and_left_open(moto: OwnedServer) -> None:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint(moto),
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    )
    health = Health()
    health.add(S3BucketCheck(BUCKET, client=client, name="mine"))
    assert run(health, "mine").status is Status.PASS
    health.stop()
    assert client.head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200
    client.close()


def test_signed_keys_pass_a_wrong_secret_is_refused_as_access_denied(
    moto_auth: tuple[OwnedServer, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, key_id, secret = moto_auth
    caplog.set_level(logging.DEBUG)
    health = Health()
    health.add(
        S3BucketCheck(
            BUCKET,
            name="good",
            endpoint_url=endpoint(server),
            region="us-east-1",
            access_key_id=key_id,
            secret_access_key=secret,
        )
    )
    wrong = S3BucketCheck(
        BUCKET,
        name="wrong",
        endpoint_url=endpoint(server),
        region="us-east-1",
        access_key_id=key_id,
        secret_access_key=CANARY,
    )
    health.add(wrong)
    report = health.run(None)
    health.stop()
    good, refused = report.checks["good"].result, report.checks["wrong"].result
    assert good.status is Status.PASS, good.output
    assert refused.status is Status.FAIL
    assert refused.output == "access denied to the bucket"
    assert refused.details["http_status"] == 403
    assert_no_canary(refused, report, caplog, wrong)


def test_a_remote_endpoint_is_a_secret_and_bad_options_are_refused() -> None:
    check = S3BucketCheck(
        "b",
        endpoint_url="https://minio.internal:9000",
        access_key_id="testing",
        secret_access_key="testing-secret",
    )
    assert "minio.internal" in check.secrets
    assert "testing-secret" in check.secrets
    assert "minio" not in repr(check)
    with pytest.raises(ConfigurationError, match="both"):
        S3BucketCheck("b", access_key_id="x")
    with pytest.raises(ConfigurationError, match="bucket"):
        S3BucketCheck("")
    with pytest.raises(ConfigurationError, match="endpoint_url"):
        S3BucketCheck("b", endpoint_url="minio:9000")
