"""SMTP: a mail server that greets, answers EHLO (and STARTTLS, AUTH) and NOOP; no mail sent.

The check connects on its first run (greeting, ``EHLO``, optionally
``STARTTLS`` and ``AUTH``), keeps the session, and sends ``NOOP`` on every
run.  It never sends ``MAIL``/``RCPT``/``DATA``.  A session the server
dropped (servers close idle sessions after a few minutes) is noticed and
replaced before the next ``NOOP``; a failed or timed-out run drops it, so the
next run reconnects::

    health.add(SmtpCheck("smtp://mail.internal:587", starttls=True))
    health.add(SmtpCheck("smtps://mail.internal:465", username="probe", password=secret))
"""

from __future__ import annotations

import socket
import ssl
import urllib.parse
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

from ._dsn import dsn_secrets
from ._kept import KeptAsync
from ._levels import timeout_option
from ._loops import seconds_left

if TYPE_CHECKING:
    import aiosmtplib

__all__ = ["SmtpCheck"]

_PORTS = {"smtp": 25, "smtps": 465}


class SmtpCheck:
    """``NOOP`` on a kept SMTP session; the server's extensions in details.

    ``url`` is ``smtp://host[:port]`` (plain, 25) or ``smtps://host[:port]``
    (TLS from the first byte, 465).  ``starttls=True`` requires and performs
    ``STARTTLS`` on an ``smtp://`` session (a server that does not offer it
    fails the check).  With ``username``/``password`` the session logs in, so a
    revoked credential fails the check.  ``validate_certs`` and
    ``tls_context`` (code only: your CA) govern TLS.  ``timeout`` (seconds)
    bounds connecting, the greeting, each command and the whole run.
    """

    component_type = "component"

    def __init__(
        self,
        url: str,
        *,
        name: str = "smtp",
        timeout: float = 5.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        validate_certs: bool = True,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in _PORTS or not parts.hostname:
            # Never echo the value: it may hold a password.
            raise ConfigurationError(
                f"check {name!r}: url must look like smtp://host:port or smtps://host:port"
            )
        if parts.username or parts.password:
            raise ConfigurationError(
                f"check {name!r}: give the credentials as username/password, not in the url"
            )
        if starttls and parts.scheme == "smtps":
            raise ConfigurationError(f"check {name!r}: starttls is for smtp://, not smtps://")
        if (username is None) != (password is None):
            raise ConfigurationError(f"check {name!r}: username and password go together")
        self._smtplib = require("aiosmtplib", "smtp")
        self.host = parts.hostname
        self.port = parts.port or _PORTS[parts.scheme]
        self.implicit_tls = parts.scheme == "smtps"
        self.starttls = starttls
        self._username = username
        self._password = password
        self._validate_certs = validate_certs
        self._tls_context = tls_context
        self._local_hostname = local_hostname or socket.gethostname()
        self.secrets: tuple[str, ...] = dsn_secrets(url) + ((password,) if password else ())
        self._kept: KeptAsync[aiosmtplib.SMTP] = KeptAsync(
            self._open, abort=_abort, closer=_quit, usable=lambda smtp: smtp.is_connected
        )

    def __repr__(self) -> str:
        # Never the host: a repr ends up in logs and tracebacks.
        return f"<SmtpCheck {self.name!r}>"

    async def acheck(self) -> CheckResult:
        """``NOOP`` (connecting first when needed); raises (= fail) on error or timeout."""
        return await self._kept.run(self.timeout, self._noop)

    async def aclose(self) -> None:
        """End the session with ``QUIT`` (bounded), or drop it."""
        await self._kept.aclose()

    async def _open(self, deadline: float) -> aiosmtplib.SMTP:
        smtp: aiosmtplib.SMTP = self._smtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=seconds_left(deadline),
            use_tls=self.implicit_tls,
            start_tls=self.starttls,  # False: never upgrade on its own, so "tls" is what we asked
            validate_certs=self._validate_certs,
            tls_context=self._tls_context,
            local_hostname=self._local_hostname,
        )
        try:
            await smtp.connect()
            if self._username is not None and self._password is not None:
                await self._login(smtp, self._username, self._password, deadline)
        except BaseException:
            smtp.close()
            raise
        smtp.timeout = self.timeout  # each later command is bounded by the check's timeout
        return smtp

    async def _login(
        self, smtp: aiosmtplib.SMTP, username: str, password: str, deadline: float
    ) -> None:
        try:
            await smtp.login(username, password, timeout=seconds_left(deadline))
        except self._smtplib.SMTPAuthenticationError as exc:
            # The server's own words, without the "...AuthenticationError: (535" shape
            # that reads like a credential pair to the scrubber.
            raise PermissionError(
                f"the server refused the login: {exc.code} {exc.message}"
            ) from None

    async def _noop(self, smtp: aiosmtplib.SMTP, deadline: float) -> CheckResult:
        response = await smtp.noop(timeout=seconds_left(deadline))
        details: dict[str, Any] = {
            "tls": self.implicit_tls or self.starttls,
            "extensions": sorted(smtp.esmtp_extensions),
            "authenticated": self._username is not None,
        }
        return CheckResult.passed(
            f"SMTP server answered NOOP: {response.code}",
            details=details,
            component_type=self.component_type,
        )


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.quit()
    finally:
        smtp.close()


def _abort(smtp: aiosmtplib.SMTP) -> None:
    smtp.close()  # closes the transport at once, no QUIT
