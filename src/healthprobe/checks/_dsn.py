"""Reading the parts of a DSN/URL that must never be shown (shared by the checks)."""

from __future__ import annotations

import urllib.parse

__all__ = ["dsn_secrets"]


def dsn_secrets(dsn: str | None) -> tuple[str, ...]:
    """The strings of ``dsn`` that no output may contain.

    The whole DSN, its password and its host names (a host
    taken from configuration is an internal name an attacker should not
    learn).  Works for URLs (``postgresql://u:p@h:5432/db``, also with
    several comma-separated hosts) and for libpq ``key=value`` strings.
    Loopback names are kept out: they reveal nothing, and scrubbing
    ``127.0.0.1`` from every message would only make errors unreadable; so is
    the user name, which is no secret and often a common word ("app").
    """
    if not dsn:
        return ()
    found: list[str] = [dsn]
    if "://" in dsn:
        parts = urllib.parse.urlsplit(dsn)
        netloc = parts.netloc
        userinfo, _, hostinfo = netloc.rpartition("@")
        if userinfo:
            password = userinfo.partition(":")[2]
            found += [urllib.parse.unquote(password), password]
        for host in hostinfo.split(","):
            found.append(_strip_port(host))
        for key, value in urllib.parse.parse_qsl(parts.query):
            if key.lower() in ("password", "host", "hostaddr", "sslpassword"):
                found.append(value)
    else:
        for item in dsn.split():
            key, sep, value = item.partition("=")
            if sep and key.lower() in ("password", "host", "hostaddr", "sslpassword"):
                found.append(value.strip("'\""))
    return tuple(dict.fromkeys(s for s in found if s and s not in _HARMLESS))


_HARMLESS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
