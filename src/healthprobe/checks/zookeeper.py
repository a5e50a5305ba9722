"""ZooKeeper: a read of a znode over one kept kazoo session.

The check is blocking (kazoo runs its own I/O thread); the engine runs it in
a worker thread.  It starts one ``KazooClient`` on its first run and keeps
it: kazoo reconnects by itself after a server restart (and opens a new
session when the old one expired), so a failed run keeps the client and the
next run waits, within its timeout, for the reconnect.  A client found
closed (or refused authentication) is replaced.  Your own started client is
used as it is and never stopped::

    health.add(ZooKeeperCheck("zk1:2181,zk2:2181,zk3:2181", path="/app/config"))
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.sanitize import sanitize

from ._dsn import dsn_secrets
from ._kept import KeptSync
from ._levels import option, timeout_option
from ._loops import seconds_left

__all__ = ["ZooKeeperCheck"]


class ZooKeeperCheck:
    """Read ``path`` (``get``): the session is live and may read it.

    ``hosts`` is kazoo's connection string (``"zk1:2181,zk2:2181"``, with an
    optional ``/chroot``) or a started ``kazoo.client.KazooClient``.
    ``username``/``password`` add a ``digest`` identity, so a znode whose ACL
    wants it is readable (a wrong password then fails with ``NoAuthError``).
    Details: the znode's version and child count, and whether the server is
    read-only.  ``timeout`` (seconds) bounds starting the session and each
    read; ``session_timeout`` is the ZooKeeper session's own (seconds).
    """

    component_type = "datastore"

    def __init__(
        self,
        hosts: str | Any,
        *,
        name: str = "zookeeper",
        timeout: float = 5.0,
        path: str = "/",
        username: str | None = None,
        password: str | None = None,
        session_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.session_timeout = option(name, "session_timeout", session_timeout, low=1.0)
        if not isinstance(path, str) or not path.startswith("/"):
            raise ConfigurationError(f"check {name!r}: path must start with '/'")
        if (username is None) != (password is None):
            raise ConfigurationError(f"check {name!r}: username and password go together")
        self._kazoo = require("kazoo.client", "zookeeper", package="kazoo")
        self.path = path
        self._auth = [("digest", f"{username}:{password}")] if username is not None else None
        self._user_client: Any = None
        self._kept: KeptSync[Any] | None = None
        if isinstance(hosts, str):
            if not hosts or "@" in hosts:
                # Never echo the value: it came from configuration.
                raise ConfigurationError(f"check {name!r}: hosts must look like 'host:2181,...'")
            self._hosts = hosts
            # The connection string and every host in it (dsn_secrets splits on ",").
            self.secrets: tuple[str, ...] = (
                hosts,
                *dsn_secrets("zk://" + hosts.partition("/")[0])[1:],
                *((password,) if password else ()),
            )
            self._kept = KeptSync(
                self._open, abort=_abort, usable=self._usable, drop_on_failure=False
            )
        elif isinstance(hosts, self._kazoo.KazooClient):
            self._hosts = ""
            self.secrets = (password,) if password else ()
            self._user_client = hosts
        else:
            raise ConfigurationError(
                f"check {name!r}: needs a hosts string or a KazooClient, not {type(hosts).__name__}"
            )

    def __repr__(self) -> str:
        # Never the hosts: a repr ends up in logs and tracebacks.
        return f"<ZooKeeperCheck {self.name!r}>"

    def check(self) -> CheckResult:
        """Read ``path``; raises (= fail) on any error or after ``timeout`` seconds."""
        if self._kept is None:
            return self._read(self._user_client, time.monotonic() + self.timeout)
        return self._kept.run(self.timeout, self._read)

    def close(self) -> None:
        """Stop the session this check started (never your client)."""
        if self._kept is not None:
            self._kept.close()

    def _open(self, deadline: float) -> Any:
        client = self._kazoo.KazooClient(
            hosts=self._hosts,
            timeout=self.session_timeout,
            auth_data=self._auth,
            # Reconnect in kazoo's own thread, forever, at most a second apart:
            # the check's runs only read, they never wait for a backoff.
            connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 1.0},
            command_retry=None,
            logger=_scrubbing_logger(self.secrets),
        )
        # Not client.start(timeout): on a timeout it stops the client in this
        # thread, which waits for kazoo's I/O thread to give up on a silent
        # server (the session timeout, 10 s by default), not the check's timeout.
        connected = client.start_async()
        if not connected.wait(timeout=seconds_left(deadline)) or not client.connected:
            _abort(client)  # stopped in the background
            raise TimeoutError(f"no ZooKeeper session within {self.timeout:g} s")
        return client

    def _usable(self, client: Any) -> bool:
        states = self._kazoo.KeeperState
        return client.client_state not in (states.CLOSED, states.AUTH_FAILED)

    def _read(self, client: Any, deadline: float) -> CheckResult:
        timeout_exception = client.handler.timeout_exception
        try:
            _, stat = client.get_async(self.path).get(timeout=seconds_left(deadline))
        except timeout_exception:
            state = client.state
            raise TimeoutError(f"no answer within {self.timeout:g} s (session {state})") from None
        read_only = str(client.client_state) == "CONNECTED_RO"
        return CheckResult.passed(
            f"ZooKeeper read {self.path}",
            details={
                "version": stat.version,
                "children": stat.numChildren,
                "read_only": read_only,
            },
            component_type=self.component_type,
        )


class _Scrub(logging.Filter):
    """Rewrites kazoo's records without the check's secrets.

    kazoo logs every request at DEBUG, the ``digest`` auth packet (with its
    password) included.
    """

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = sanitize(record.getMessage(), self._secrets, max_length=100_000)
        record.args = None
        return True


class _ScrubbingLogger(logging.Logger):
    """A logger of the check's own, outside the registry (one per check does not
    pile filters up on a shared one), whose records go on to the handlers of
    ``kazoo.client`` as kazoo's own do, scrubbed first."""

    def isEnabledFor(self, level: int) -> bool:
        # Never cached: the registry clears only its own loggers' caches when
        # the application changes a level, and this one is not registered.
        return level > self.manager.disable and level >= self.getEffectiveLevel()


def _scrubbing_logger(secrets: tuple[str, ...]) -> logging.Logger:
    logger = _ScrubbingLogger("kazoo.client")
    logger.parent = logging.getLogger("kazoo.client")
    logger.addFilter(_Scrub(secrets))
    return logger


def _abort(client: Any) -> None:
    # stop() joins kazoo's I/O thread, which may sit in a read from a silent
    # server: never on the caller's thread (astop() calls close() on the loop).
    threading.Thread(target=_stop, args=(client,), name="healthprobe-zk-stop", daemon=True).start()


def _stop(client: Any) -> None:
    try:
        client.stop()
    finally:
        client.close()
