"""LDAP: a bind (once) and a base-scope search (each run) over one kept ldap3 connection.

The check is blocking (ldap3 is); the engine runs it in a worker thread.
Given a URL it opens one connection on the first run, binds (simple bind
with ``bind_dn``/``password``, or anonymously), keeps it, and searches on
every run; a failed or timed-out run drops the connection, so the next run
reconnects and binds again.  A bound ``ldap3.Connection`` of your own is used
as it is and never unbound::

    health.add(LdapCheck("ldap://ldap.internal", bind_dn=probe_dn, password=secret,
                         base="ou=people,dc=example,dc=org"))
"""

from __future__ import annotations

import math
import ssl
import urllib.parse
import warnings
from typing import Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

from ._dsn import dsn_secrets
from ._kept import KeptSync
from ._levels import timeout_option

__all__ = ["LdapCheck"]

_PORTS = {"ldap": 389, "ldaps": 636}


class LdapCheck:
    """Search ``base`` (scope base, no attributes): the entry must exist.

    ``url`` is ``ldap://host[:port]`` or ``ldaps://host[:port]`` (TLS; the
    system CAs, or ``ca_file``), or a bound ``ldap3.Connection``.  ``base``
    defaults to the root DSE (``""``), which every server answers; name an
    entry (``"ou=people,dc=example,dc=org"``) to prove the directory holds
    data and that the bind may read it.  ``search_filter`` is matched against
    that entry.  ``timeout`` (seconds) is the driver's connect and receive
    timeout, so a server that accepts and never answers frees the worker
    thread at the timeout.
    """

    component_type = "datastore"

    def __init__(
        self,
        url: str | Any,
        *,
        name: str = "ldap",
        timeout: float = 3.0,
        bind_dn: str | None = None,
        password: str | None = None,
        base: str = "",
        search_filter: str = "(objectClass=*)",
        ca_file: str | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self._ldap3, self._errors = _import_ldap3()
        if (bind_dn is None) != (password is None):
            raise ConfigurationError(f"check {name!r}: bind_dn and password go together")
        if not isinstance(base, str) or not isinstance(search_filter, str):
            raise ConfigurationError(f"check {name!r}: base and search_filter are strings")
        if not (search_filter.startswith("(") and search_filter.endswith(")")):
            raise ConfigurationError(f"check {name!r}: search_filter must be in parentheses")
        self.base = base
        self.search_filter = search_filter
        self._bind_dn = bind_dn
        self._password = password
        self._ca_file = ca_file
        self._user_connection: Any = None
        self._kept: KeptSync[Any] | None = None
        if isinstance(url, str):
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in _PORTS or not parts.hostname or parts.password:
                # Never echo the value: it came from configuration.
                raise ConfigurationError(
                    f"check {name!r}: url must look like ldap://host:port or ldaps://host:port"
                )
            self.host = parts.hostname
            self.port = parts.port or _PORTS[parts.scheme]
            self.use_ssl = parts.scheme == "ldaps"
            self.secrets: tuple[str, ...] = dsn_secrets(url) + ((password,) if password else ())
            self._kept = KeptSync(self._open, abort=_abort, usable=_usable)
        elif isinstance(url, self._ldap3.Connection):
            self.host, self.port, self.use_ssl = "", 0, False
            self.secrets = (password,) if password else ()
            self._user_connection = url
        else:
            raise ConfigurationError(
                f"check {name!r}: needs an ldap:// URL or an ldap3.Connection, "
                f"not {type(url).__name__}"
            )

    def __repr__(self) -> str:
        # Never the URL or DN: a repr ends up in logs and tracebacks.
        return f"<LdapCheck {self.name!r}>"

    def check(self) -> CheckResult:
        """Search the base entry; raises (= fail) on any error, a missing entry or a timeout."""
        if self._kept is None:
            return self._search(self._user_connection, 0.0)
        return self._kept.run(self.timeout, self._search)

    def close(self) -> None:
        """Unbind the connection this check opened (never yours)."""
        if self._kept is not None:
            self._kept.close()

    def _open(self, deadline: float) -> Any:
        ldap3 = self._ldap3
        tls = None
        if self.use_ssl:
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self._ca_file)
        server = ldap3.Server(
            self.host,
            port=self.port,
            use_ssl=self.use_ssl,
            tls=tls,
            get_info=ldap3.NONE,  # no schema download: a probe reads one entry
            connect_timeout=self.timeout,
        )
        connection = ldap3.Connection(
            server,
            user=self._bind_dn,
            password=self._password,
            # ldap3 packs it into SO_RCVTIMEO, which takes whole seconds.
            receive_timeout=max(1, math.ceil(self.timeout)),
            read_only=True,
            raise_exceptions=True,
            auto_referrals=False,
        )
        try:
            connection.open()
            connection.bind()
        except BaseException:
            _abort(connection)
            raise
        return connection

    def _search(self, connection: Any, deadline: float) -> CheckResult:
        ldap3 = self._ldap3
        try:
            connection.search(
                self.base,
                self.search_filter,
                search_scope=ldap3.BASE,
                attributes=["1.1"],  # RFC 4511: no attributes, the entry only
                size_limit=1,
                time_limit=max(1, int(self.timeout)),
            )
        except self._errors.LDAPNoSuchObjectResult:
            raise LookupError("the base entry does not exist") from None
        if not connection.entries:
            raise LookupError("the base entry does not match search_filter")
        return CheckResult.passed(
            "LDAP bind and search answered",
            details={"bound": self._bind_dn is not None, "entries": len(connection.entries)},
            component_type=self.component_type,
        )


def _import_ldap3() -> tuple[Any, Any]:
    # ldap3 2.9.1 imports names pyasn1 >= 0.6 deprecated: that warning is
    # ldap3's business, not something to raise in the application importing it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "tagMap is deprecated", DeprecationWarning)
        warnings.filterwarnings("ignore", "typeMap is deprecated", DeprecationWarning)
        ldap3 = require("ldap3", "ldap")
        errors = require("ldap3.core.exceptions", "ldap", package="ldap3")
    return ldap3, errors


def _usable(connection: Any) -> bool:
    return bool(connection.bound) and not connection.closed


def _abort(connection: Any) -> None:
    # unbind() sends one message and closes the socket without waiting for an
    # answer, but on a broken connection it may raise first: close the socket too.
    try:
        connection.unbind()
    finally:
        sock = getattr(connection, "socket", None)
        if sock is not None:
            sock.close()
