"""A real grpcio server (sync and asyncio) on loopback, asked by the official health stub."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from concurrent import futures

import grpc
import grpc.aio
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from healthprobe import Health
from healthprobe.integrations.grpc import AsyncHealthServicer, HealthServicer
from tests.conftest import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
SERVICES = {"shop.Cart": "ready/db"}
WATCH_INTERVAL = 0.2


class Flag:
    """A check whose outcome the test flips; ``db`` is async, ``cache`` sync."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ok = True

    async def acheck(self) -> tuple[bool, str]:
        return self.ok, "flag"


def _health() -> tuple[Health, Flag, Flag]:
    health = Health()
    db, mail = Flag("db"), Flag("mail")
    health.add(db, timeout=2.0)
    health.add(mail, timeout=2.0, critical=False)
    return health, db, mail


def _watched(servicer: HealthServicer | AsyncHealthServicer) -> list[str]:
    return list(servicer.watched)  # a call: mypy would narrow the property between reads


def _request(service: str) -> health_pb2.HealthCheckRequest:
    return health_pb2.HealthCheckRequest(service=service)


# -- the sync server -------------------------------------------------------------------


@pytest.fixture
def sync_server() -> Iterator[tuple[health_pb2_grpc.HealthStub, HealthServicer, Flag, Flag]]:
    health, db, mail = _health()
    servicer = HealthServicer(health, services=SERVICES, watch_interval=WATCH_INTERVAL)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    servicer.add_to_server(server)
    port = free_port()
    assert server.add_insecure_port(f"127.0.0.1:{port}") == port
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield health_pb2_grpc.HealthStub(channel), servicer, db, mail
    finally:
        channel.close()
        server.stop(grace=1.0).wait(5.0)
        servicer.close()
        health.stop()


def test_sync_check_and_list(
    sync_server: tuple[health_pb2_grpc.HealthStub, HealthServicer, Flag, Flag],
) -> None:
    stub, _servicer, db, mail = sync_server
    assert stub.Check(_request(""), timeout=5).status == SERVING
    mail.ok = False  # not critical: degraded still serves
    assert stub.Check(_request(""), timeout=5).status == SERVING
    db.ok = False
    assert stub.Check(_request(""), timeout=5).status == NOT_SERVING
    assert stub.Check(_request("ready"), timeout=5).status == NOT_SERVING
    assert stub.Check(_request("shop.Cart"), timeout=5).status == NOT_SERVING
    assert stub.Check(_request("live"), timeout=5).status == SERVING  # no dependencies
    with pytest.raises(grpc.RpcError) as caught:
        stub.Check(_request("no.Such"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = stub.List(health_pb2.HealthListRequest(), timeout=5)
    assert {name: entry.status for name, entry in listed.statuses.items()} == {
        "": NOT_SERVING,
        "live": SERVING,
        "ready": NOT_SERVING,
        "startup": SERVING,
        "shop.Cart": NOT_SERVING,
    }


def test_sync_watch_sees_changes_and_graceful_shutdown(
    sync_server: tuple[health_pb2_grpc.HealthStub, HealthServicer, Flag, Flag],
) -> None:
    stub, servicer, db, _mail = sync_server
    stream = stub.Watch(_request("shop.Cart"), timeout=30)
    assert next(stream).status == SERVING
    db.ok = False
    changed = time.monotonic()
    assert next(stream).status == NOT_SERVING
    assert time.monotonic() - changed < 5.0  # a few watch intervals at most
    db.ok = True
    assert next(stream).status == SERVING
    servicer.enter_graceful_shutdown()
    assert next(stream).status == NOT_SERVING
    assert stub.Check(_request(""), timeout=5).status == NOT_SERVING
    assert stub.Check(_request("live"), timeout=5).status == NOT_SERVING  # every service
    stream.cancel()


def test_sync_watch_follows_the_lifecycle_and_forgets_cancelled_streams(
    sync_server: tuple[health_pb2_grpc.HealthStub, HealthServicer, Flag, Flag],
) -> None:
    stub, servicer, _db, _mail = sync_server
    lifecycle = servicer.health.lifecycle
    stream = stub.Watch(_request(""), timeout=30)
    assert next(stream).status == SERVING
    assert _watched(servicer) == [""]
    lifecycle.mark_not_ready()  # no check reading changes: the refresher must see it
    assert next(stream).status == NOT_SERVING
    assert stub.Check(_request(""), timeout=5).status == NOT_SERVING
    assert stub.Check(_request("live"), timeout=5).status == SERVING
    lifecycle.mark_ready()
    assert next(stream).status == SERVING
    stream.cancel()
    deadline = time.monotonic() + 5.0
    while servicer.watched and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _watched(servicer) == []


def test_sync_watch_of_an_unknown_service_stays_open(
    sync_server: tuple[health_pb2_grpc.HealthStub, HealthServicer, Flag, Flag],
) -> None:
    stub, _servicer, _db, _mail = sync_server
    stream = stub.Watch(_request("no.Such"), timeout=1.0)
    assert next(stream).status == SERVICE_UNKNOWN
    with pytest.raises(grpc.RpcError) as caught:
        next(stream)  # no end of stream: the client's deadline ends it
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


# -- the asyncio server ----------------------------------------------------------------


@pytest_asyncio.fixture
async def aio_server() -> AsyncIterator[
    tuple[health_pb2_grpc.HealthStub, AsyncHealthServicer, Flag, Flag]
]:
    health, db, mail = _health()
    servicer = AsyncHealthServicer(health, services=SERVICES, watch_interval=WATCH_INTERVAL)
    server = grpc.aio.server()
    servicer.add_to_server(server)
    port = free_port()
    assert server.add_insecure_port(f"127.0.0.1:{port}") == port
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield health_pb2_grpc.HealthStub(channel), servicer, db, mail
    finally:
        await channel.close(grace=None)
        await server.stop(grace=1.0)
        servicer.close()
        await health.astop()


@pytest.mark.asyncio
async def test_aio_check_list_watch_and_graceful_shutdown(
    aio_server: tuple[health_pb2_grpc.HealthStub, AsyncHealthServicer, Flag, Flag],
) -> None:
    stub, servicer, db, _mail = aio_server
    assert (await stub.Check(_request(""), timeout=5)).status == SERVING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Check(_request("no.Such"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await stub.List(health_pb2.HealthListRequest(), timeout=5)
    assert set(listed.statuses) == {"", "live", "ready", "startup", "shop.Cart"}
    assert all(entry.status == SERVING for entry in listed.statuses.values())

    call = stub.Watch(_request(""), timeout=30)
    assert (await asyncio.wait_for(call.read(), 5)).status == SERVING
    db.ok = False
    assert (await asyncio.wait_for(call.read(), 5)).status == NOT_SERVING
    db.ok = True
    assert (await asyncio.wait_for(call.read(), 5)).status == SERVING

    unknown = stub.Watch(_request("no.Such"), timeout=30)
    assert (await asyncio.wait_for(unknown.read(), 5)).status == SERVICE_UNKNOWN
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(unknown.read()), 0.5)  # still open, silent
    unknown.cancel()

    servicer.enter_graceful_shutdown()
    assert (await asyncio.wait_for(call.read(), 5)).status == NOT_SERVING
    db.ok = True
    assert (await stub.Check(_request("shop.Cart"), timeout=5)).status == NOT_SERVING
    call.cancel()
    for _ in range(100):  # up to 5 s
        if not servicer.watched:
            break
        await asyncio.sleep(0.05)
    assert _watched(servicer) == []  # the cancelled stream unsubscribed


@pytest.mark.asyncio
async def test_aio_watch_hears_a_polled_check_at_once(
    aio_server: tuple[health_pb2_grpc.HealthStub, AsyncHealthServicer, Flag, Flag],
) -> None:
    stub, servicer, _db, _mail = aio_server
    health = servicer.health
    cache = Flag("cache")
    health.add(cache, interval=0.05, timeout=1.0)
    await health.astart()
    servicer.watch_interval = 60.0  # only the result listener can deliver the change
    call = stub.Watch(_request("ready"), timeout=30)
    assert (await asyncio.wait_for(call.read(), 5)).status == SERVING
    cache.ok = False
    assert (await asyncio.wait_for(call.read(), 5)).status == NOT_SERVING
    call.cancel()
