"""SSH/SFTP: a kept, authenticated SSH connection that serves SFTP (or runs a command).

The check connects on its first run (key exchange, host key verification,
login with a key or a password), opens an SFTP session and keeps both; each
run is one SFTP ``stat`` of ``path`` over them: a round trip through the
server's SFTP subsystem, with no new TCP connection, key exchange or login.
With ``command`` instead, each run executes it on a new channel of the same
connection and passes on exit status 0.  A failed or timed-out run drops the
connection, so the next run reconnects::

    health.add(SshCheck("sftp.partner.example", username="upload",
                        client_keys=["/run/secrets/sftp_key"], path="incoming"))
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

from ._dsn import dsn_secrets
from ._kept import KeptAsync
from ._levels import timeout_option
from ._loops import seconds_left

if TYPE_CHECKING:
    import asyncssh

__all__ = ["SshCheck"]


class _Session(NamedTuple):
    connection: asyncssh.SSHClientConnection
    sftp: asyncssh.SFTPClient | None


class SshCheck:
    """SFTP ``stat(path)`` (or ``command``) over a kept SSH connection.

    ``host`` is a host name or address; ``port`` defaults to 22.  Log in as
    ``username`` with ``client_keys`` (private key files) and/or
    ``password``.  The server's host key is verified against ``known_hosts``
    (a file; the user's ``~/.ssh/known_hosts`` by default);
    ``verify_host_key=False`` skips that, for a test bench only.  ``timeout``
    (seconds) bounds connecting, the key exchange, the login and each run,
    so a server that accepts and never sends its banner fails at the timeout.
    """

    component_type = "component"

    def __init__(
        self,
        host: str,
        *,
        name: str = "ssh",
        port: int = 22,
        timeout: float = 5.0,
        username: str | None = None,
        password: str | None = None,
        client_keys: Sequence[str] | None = None,
        known_hosts: str | None = None,
        verify_host_key: bool = True,
        path: str = ".",
        command: str | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        if not isinstance(host, str) or not host or "/" in host or "@" in host:
            # Never echo the value: it came from configuration.
            raise ConfigurationError(f"check {name!r}: host must be a host name or address")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigurationError(f"check {name!r}: port must be 1-65535, not {port!r}")
        if isinstance(client_keys, str):
            raise ConfigurationError(f"check {name!r}: client_keys is a list of key files")
        if username is None and (password is not None or client_keys):
            raise ConfigurationError(f"check {name!r}: a password or key needs a username")
        if command is not None and not (isinstance(command, str) and command.strip()):
            raise ConfigurationError(f"check {name!r}: command must be a non-empty string")
        self._asyncssh = require("asyncssh", "ssh")
        self.host = host
        self.port = port
        self.path = path
        self.command = command
        self._username = username
        self._password = password
        self._client_keys = list(client_keys) if client_keys else None
        if not verify_host_key:
            self._known_hosts: Any = None  # asyncssh: None = accept any host key
        elif known_hosts is not None:
            self._known_hosts = os.path.expanduser(known_hosts)
        else:
            self._known_hosts = ()  # asyncssh's default: ~/.ssh/known_hosts
        self.secrets: tuple[str, ...] = dsn_secrets(f"ssh://{host}") + (
            (password,) if password else ()
        )
        self._kept: KeptAsync[_Session] = KeptAsync(
            self._open, abort=_abort, closer=_close, usable=_usable
        )

    def __repr__(self) -> str:
        # Never the host: a repr ends up in logs and tracebacks.
        return f"<SshCheck {self.name!r}>"

    async def acheck(self) -> CheckResult:
        """One SFTP round trip (or the command); raises (= fail) on error or timeout."""
        return await self._kept.run(self.timeout, self._probe)

    async def aclose(self) -> None:
        """Close the SFTP session and the connection (bounded)."""
        await self._kept.aclose()

    async def _open(self, deadline: float) -> _Session:
        left = seconds_left(deadline)
        connection = await self._asyncssh.connect(
            self.host,
            self.port,
            username=self._username,
            password=self._password,
            client_keys=self._client_keys,
            known_hosts=self._known_hosts,
            connect_timeout=left,
            login_timeout=left,
            keepalive_interval=0,
            # No agent, no ~/.ssh/config: the check logs in only as configured.
            agent_path=None,
            config=None,
            kbdint_auth=False,
        )
        if self.command is not None:
            return _Session(connection, None)
        try:
            sftp = await connection.start_sftp_client()
        except BaseException:
            connection.abort()
            raise
        return _Session(connection, sftp)

    async def _probe(self, session: _Session, deadline: float) -> CheckResult:
        details: dict[str, Any] = {
            "server_version": session.connection.get_extra_info("server_version"),
        }
        if session.sftp is not None:
            attrs = await session.sftp.stat(self.path)
            details["path_type"] = _kind(attrs.type)
            return CheckResult.passed(
                "SFTP answered stat", details=details, component_type=self.component_type
            )
        completed = await session.connection.run(self.command, check=False)
        status = completed.exit_status
        details["exit_status"] = status
        if status != 0:
            return CheckResult.failed(
                f"the command exited with status {status}",
                details=details,
                component_type=self.component_type,
            )
        return CheckResult.passed(
            "SSH command exited with status 0",
            details=details,
            component_type=self.component_type,
        )


def _kind(file_type: int) -> str:
    # SFTP v3 file types (asyncssh.constants FILEXFER_TYPE_*)
    return {1: "file", 2: "directory", 3: "symlink"}.get(file_type, "other")


def _usable(session: _Session) -> bool:
    return not session.connection.is_closed()


async def _close(session: _Session) -> None:
    if session.sftp is not None:
        session.sftp.exit()
    session.connection.close()
    await session.connection.wait_closed()


def _abort(session: _Session) -> None:
    session.connection.abort()
