"""GrpcHealthCheck against a real grpcio server with grpcio's own health servicer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.grpc import GrpcHealthCheck
from tests.conftest import free_port
from tests.services._probe_asserts import CANARY, assert_no_canary, run_once, timed_failure

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

Serving = health_pb2.HealthCheckResponse.ServingStatus


class PeerRecordingServicer(health.HealthServicer):
    """grpcio's health servicer, noting the peer (client address:port) of every Check."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[str] = []
        self.metadata: list[dict[str, str]] = []

    def Check(self, request: Any, context: Any) -> Any:
        self.peers.append(context.peer())
        self.metadata.append({m.key: m.value for m in context.invocation_metadata()})
        return super().Check(request, context)


class Server:
    """A grpcio server on a fixed loopback port, restartable on that port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.servicer = PeerRecordingServicer()
        self._server: grpc.Server | None = None

    def start(self) -> None:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        health_pb2_grpc.add_HealthServicer_to_server(self.servicer, server)
        assert server.add_insecure_port(f"127.0.0.1:{self.port}") == self.port
        server.start()
        self._server = server

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace=None).wait(5)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    srv.servicer.set("", Serving.SERVING)
    srv.servicer.set("db", Serving.SERVING)
    srv.servicer.set("cache", Serving.NOT_SERVING)
    srv.servicer.set("warming", Serving.UNKNOWN)
    srv.start()
    yield srv
    srv.stop()


async def one(check: GrpcHealthCheck) -> Any:
    health_ = Health()
    health_.add(check)
    result, _ = await run_once(health_, check.name)
    await health_.astop()
    return result


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("service", "status", "word"),
    [
        ("", Status.PASS, "SERVING"),
        ("db", Status.PASS, "SERVING"),
        ("cache", Status.FAIL, "NOT_SERVING"),
        ("warming", Status.UNKNOWN, "UNKNOWN"),
    ],
)
async def test_serving_status_decides(
    server: Server, service: str, status: Status, word: str
) -> None:
    result = await one(GrpcHealthCheck(server.target, service=service))
    assert result.status is status, result.output
    assert result.details["serving_status"] == word
    assert result.component_type == "component"


@pytest.mark.asyncio
async def test_an_unknown_service_fails_naming_it(server: Server) -> None:
    result = await one(GrpcHealthCheck(server.target, service="nope"))
    assert result.status is Status.FAIL
    assert result.output == "the server does not know service 'nope'"
    assert result.details["grpc_code"] == "NOT_FOUND"


@pytest.mark.asyncio
async def test_a_server_without_the_health_service_fails(server: Server) -> None:
    bare = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = bare.add_insecure_port("127.0.0.1:0")
    bare.start()
    try:
        result = await one(GrpcHealthCheck(f"127.0.0.1:{port}"))
    finally:
        bare.stop(None).wait(5)
    assert result.status is Status.FAIL
    assert result.output == "the server has no grpc.health.v1 service"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(GrpcHealthCheck(f"127.0.0.1:{port}", timeout=1.0))
    assert result.output
    if kind == "closed":
        assert result.details["grpc_code"] == "UNAVAILABLE"


@pytest.mark.asyncio
async def test_200_runs_use_one_connection_and_the_status_change_is_seen(server: Server) -> None:
    health_ = Health()
    health_.add(GrpcHealthCheck(server.target, service="db"))
    for _ in range(200):
        result, _ = await run_once(health_, "grpc")
        assert result.status is Status.PASS, result.output
    assert len(set(server.servicer.peers)) == 1  # one client port: one HTTP/2 connection
    server.servicer.set("db", Serving.NOT_SERVING)
    result, _ = await run_once(health_, "grpc")
    assert result.status is Status.FAIL
    await health_.astop()


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(server: Server) -> None:
    health_ = Health()
    health_.add(GrpcHealthCheck(server.target, timeout=1.0))
    assert (await run_once(health_, "grpc"))[0].status is Status.PASS
    server.stop()
    down, _ = await run_once(health_, "grpc")
    assert down.status is Status.FAIL
    assert down.details["grpc_code"] == "UNAVAILABLE"
    server.start()
    # gRPC reconnects on its own (with its back-off): within a few runs.
    for _ in range(40):
        up, _ = await run_once(health_, "grpc")
        if up.status is Status.PASS:
            break
        await asyncio.sleep(0.1)
    assert up.status is Status.PASS, up.output
    await health_.astop()


@pytest.mark.asyncio
async def test_users_channel_is_used_and_left_open(server: Server) -> None:
    channel = grpc.aio.insecure_channel(server.target)
    result = await one(GrpcHealthCheck(channel, name="svc"))
    assert result.status is Status.PASS, result.output
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == Serving.SERVING  # astop() did not close the user's channel
    await channel.close(None)


@pytest.mark.asyncio
async def test_metadata_is_sent_and_its_credentials_never_leak(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    check = GrpcHealthCheck(
        server.target, service="cache", metadata={"Authorization": f"Bearer {CANARY}"}
    )
    health_ = Health()
    health_.add(check)
    result, report = await run_once(health_, "grpc")
    await health_.astop()
    assert server.servicer.metadata[-1]["authorization"] == f"Bearer {CANARY}"
    assert result.status is Status.FAIL
    assert f"Bearer {CANARY}" in check.secrets
    assert_no_canary(result, report, caplog, check)


def test_a_remote_host_is_a_secret_and_bad_options_are_refused() -> None:
    check = GrpcHealthCheck("payments.internal:50051")
    assert "payments.internal" in check.secrets
    assert "payments" not in repr(check)
    assert GrpcHealthCheck("127.0.0.1:50051").secrets == ()
    with pytest.raises(ConfigurationError, match="target"):
        GrpcHealthCheck("")
    with pytest.raises(ConfigurationError, match="timeout"):
        GrpcHealthCheck("127.0.0.1:1", timeout=0)
