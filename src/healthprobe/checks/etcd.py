"""etcd v3: the member's status through etcd's JSON gateway, over a kept httpx client.

The gateway (``/v3/maintenance/status``) is part of every etcd v3 server
and speaks plain HTTP/JSON, so the check needs no gRPC stack and no etcd
client library (the ``etcd3`` packages on PyPI are unmaintained).  One
``httpx.AsyncClient`` with a single connection is made on the first run and
kept; it reconnects after a server restart.  With ``username``/``password``
the check authenticates once and reuses the token until etcd refuses it::

    health.add(EtcdCheck("http://127.0.0.1:2379"))
    health.add(EtcdCheck(settings.etcd_url, username="probe", password=secret))
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

from ._dsn import dsn_secrets
from ._kept import KeptAsync
from ._levels import grade, option, thresholds, timeout_option
from ._loops import seconds_left

if TYPE_CHECKING:
    import httpx

__all__ = ["EtcdCheck"]

_STATUS = "/v3/maintenance/status"
_AUTH = "/v3/auth/authenticate"


class EtcdCheck:
    """The etcd member's status: it has a leader and no alarm; its database size.

    ``url`` is the member's client URL (``http://`` or ``https://``).  The
    check fails when the member sees no leader or reports an alarm (such as
    ``NOSPACE``); ``db_size_warn`` / ``db_size_fail`` (bytes) grade the
    backend database's size, the observed value (unit ``bytes``).
    ``timeout`` (seconds) bounds connecting, authenticating and the call.
    ``verify`` is httpx's: ``True``, ``False`` or a CA bundle path.
    ``client`` is your own ``httpx.AsyncClient`` (used with ``url`` as the
    base, never closed) instead of the check's.
    """

    component_type = "datastore"

    def __init__(
        self,
        url: str,
        *,
        name: str = "etcd",
        timeout: float = 2.0,
        username: str | None = None,
        password: str | None = None,
        db_size_warn: float | None = None,
        db_size_fail: float | None = None,
        verify: bool | str = True,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            # Never echo the value: it came from configuration.
            raise ConfigurationError(f"check {name!r}: url must start with http:// or https://")
        if (username is None) != (password is None):
            raise ConfigurationError(f"check {name!r}: username and password go together")
        self.db_size_warn = option(name, "db_size_warn", db_size_warn, strict_low=True)
        self.db_size_fail = option(name, "db_size_fail", db_size_fail, strict_low=True)
        thresholds(
            name,
            ("db_size_warn", self.db_size_warn),
            ("db_size_fail", self.db_size_fail),
            higher_is_worse=True,
        )
        self._httpx = require("httpx", "etcd")
        self._url = url.rstrip("/")
        self._username = username
        self._password = password
        self._verify = verify
        self._token: str | None = None
        self.secrets: tuple[str, ...] = dsn_secrets(self._url) + ((password,) if password else ())
        self._user_client = client
        self._kept: KeptAsync[httpx.AsyncClient] = KeptAsync(
            self._open, abort=_abort, closer=_close, usable=lambda c: not c.is_closed
        )

    def __repr__(self) -> str:
        # Never the URL: a repr ends up in logs and tracebacks.
        return f"<EtcdCheck {self.name!r}>"

    async def acheck(self) -> CheckResult:
        """Read the member's status; raises (= fail) on any error or after ``timeout``."""
        if self._user_client is not None:
            deadline = time.monotonic() + self.timeout
            return await asyncio.wait_for(self._status(self._user_client, deadline), self.timeout)
        return await self._kept.run(self.timeout, self._status)

    async def aclose(self) -> None:
        """Close the check's HTTP client (never yours)."""
        self._token = None
        await self._kept.aclose()

    def result(self, status: dict[str, Any]) -> CheckResult:
        """The reading of one status answer (a pure function of it)."""
        version = str(status.get("version", "?"))
        size = _int(status.get("dbSize"))
        details: dict[str, Any] = {
            "server_version": version,
            "db_size": size,
            "db_size_in_use": _int(status.get("dbSizeInUse")),
            "raft_index": _int(status.get("raftIndex")),
            "raft_term": _int(status.get("raftTerm")),
            "is_leader": status.get("leader") == (status.get("header") or {}).get("member_id"),
        }
        common: dict[str, Any] = {
            "details": details,
            "observed_value": size,
            "observed_unit": "bytes",
            "component_type": self.component_type,
        }
        errors = [str(e) for e in status.get("errors") or ()]
        if errors:
            return CheckResult.failed(f"etcd {version} reports: {'; '.join(errors)}", **common)
        if _int(status.get("leader")) == 0:
            return CheckResult.failed(f"etcd {version} has no leader", **common)
        text = f"etcd {version}: database {size} bytes"
        level = grade(size, self.db_size_warn, self.db_size_fail, higher_is_worse=True)
        if level is Status.FAIL:
            return CheckResult.failed(f"{text} (fail at {self.db_size_fail:g})", **common)
        if level is Status.WARN:
            return CheckResult.warned(f"{text} (warn at {self.db_size_warn:g})", **common)
        return CheckResult.passed(text, **common)

    async def _open(self, deadline: float) -> httpx.AsyncClient:
        self._token = None
        client: httpx.AsyncClient = self._httpx.AsyncClient(
            timeout=self.timeout,
            verify=self._verify,
            # One connection: a probe never needs two.
            limits=self._httpx.Limits(max_connections=1, max_keepalive_connections=1),
            trust_env=False,
        )
        return client

    async def _status(self, client: httpx.AsyncClient, deadline: float) -> CheckResult:
        if self._username is not None and self._token is None:
            self._token = await self._authenticate(client, deadline)
        headers = {"Authorization": self._token} if self._token else {}
        response = await client.post(
            self._url + _STATUS, json={}, headers=headers, timeout=seconds_left(deadline)
        )
        if response.status_code in (400, 401) and self._token:
            self._token = None  # expired or revoked: authenticate again next run
        return self.result(_answer(response, "status"))

    async def _authenticate(self, client: httpx.AsyncClient, deadline: float) -> str:
        body = {"name": self._username, "password": self._password}
        response = await client.post(self._url + _AUTH, json=body, timeout=seconds_left(deadline))
        token = _answer(response, "authentication").get("token")
        if not isinstance(token, str) or not token:
            raise RuntimeError("etcd authentication returned no token")
        return token


def _answer(response: httpx.Response, what: str) -> dict[str, Any]:
    """The JSON body of a gateway answer; an error with etcd's own message otherwise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RuntimeError(f"etcd {what}: HTTP {response.status_code}, not a JSON object")
    if response.status_code != 200:
        message = body.get("message") or body.get("error") or "no message"
        raise RuntimeError(f"etcd {what}: HTTP {response.status_code}: {message}")
    return body


def _int(value: object) -> int:
    # The gateway writes 64-bit integers as JSON strings.
    if isinstance(value, (int, str)):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


async def _close(client: httpx.AsyncClient) -> None:
    await client.aclose()


_closing: set[asyncio.Task[None]] = set()


def _abort(client: httpx.AsyncClient) -> None:
    # Called on the client's own loop; httpx closes only through a coroutine.
    task = asyncio.get_running_loop().create_task(_close_quietly(client))
    _closing.add(task)  # a task nobody references may be collected before it runs
    task.add_done_callback(_closing.discard)


async def _close_quietly(client: httpx.AsyncClient) -> None:
    with contextlib.suppress(Exception):  # best effort: the client is being thrown away
        await asyncio.wait_for(client.aclose(), 1.0)
