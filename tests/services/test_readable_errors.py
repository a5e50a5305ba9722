"""The errors an operator needs in an outage stay readable (issue 13.9), from the real drivers.

Wrong credentials against the machine's own Redis, RabbitMQ and PostgreSQL
(one refused login each, on loopback): the built-in check's reason keeps the
driver's exception type and message.  The scrubber once read ``Type: word`` as
a ``key: value`` secret and printed ``AuthenticationError: *** username-password
pair``; the password in the URL is still scrubbed.
"""

from __future__ import annotations

import pytest

from healthprobe import Health, Status
from healthprobe.checks.postgres import PostgresCheck
from healthprobe.checks.rabbitmq import RabbitMQCheck
from healthprobe.checks.redis import RedisCheck
from tests.conftest import require_server
from tests.services._probe_asserts import CANARY, run_once

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

CASES = [
    (
        "Redis",
        6379,
        lambda: RedisCheck(f"redis://no-such-user-hp:{CANARY}@127.0.0.1:6379/0", timeout=5),
        "AuthenticationError: invalid username-password pair",
    ),
    (
        "RabbitMQ",
        5672,
        lambda: RabbitMQCheck(f"amqp://guest:{CANARY}@127.0.0.1:5672/", timeout=5),
        "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN",
    ),
    (
        "PostgreSQL",
        5432,
        lambda: PostgresCheck(
            f"postgresql://no_such_role_hp:{CANARY}@127.0.0.1:5432/postgres", timeout=5
        ),
        'role "no_such_role_hp" does not exist',
    ),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("server", "port", "make", "readable"), CASES, ids=[c[0] for c in CASES])
async def test_a_refused_login_reads_as_the_driver_wrote_it(
    server: str, port: int, make: object, readable: str
) -> None:
    require_server(server, port)
    health = Health()
    assert callable(make)
    health.add(make(), name="target")
    try:
        result, _ = await run_once(health, "target")
    finally:
        await health.astop()
    assert result.status is Status.FAIL
    assert readable in result.output, result.output
    assert CANARY not in result.output
