"""HTTP: a GET with expected statuses, an optional body match, and health+json honoured.

A downstream service that answers ``application/health+json`` (the IETF
draft healthprobe itself serves) has its own verdict honoured: its ``warn``
degrades this check, its ``fail`` fails it.  A ``429`` whose JSON body says
``warn`` (or ``degraded``) is a degraded target, not a failed one: that is
what a healthprobe service with ``warn_status=429`` (Consul's "warning")
answers, and one degraded service must not fail its dependants.  Any other
response passes when its status code is expected and (if asked) its body
matches.

The check keeps one ``httpx.AsyncClient`` (created on the first run, closed
in ``aclose()``), so probes reuse a kept-alive connection; a client the user
passes is used as it is and never closed.  Credentials in the URL are taken
out of it and sent as Basic auth, so the URL the driver logs carries none.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.checks._dsn import dsn_secrets
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpCheck"]

#: At most this much of a body is read, matched and parsed (a health endpoint answers in a
#: few hundred bytes; a larger body is cut here, before anything on the event loop reads it).
MAX_BODY = 64 * 1024
#: At most this much of a target's own reason (health+json ``output``) is kept.
MAX_REASON = 300
HEALTH_JSON = "application/health+json"
#: Headers whose values are credentials, never to be shown.
_SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|session|password", re.IGNORECASE)


class HttpCheck:
    """GET ``url``; pass on an expected status (and body), or on the target's own verdict.

    ``expected_status`` is a code or an iterable of codes (default: any
    2xx; redirects are not followed, so a 3xx fails unless expected).
    ``body_match`` is a substring, or a compiled pattern searched for, in the
    body.  ``headers`` are sent with every request; the values of credential
    headers (``Authorization``, ``Cookie``, ``X-Api-Key``...) are treated as
    secrets.  ``client`` is your own ``httpx.AsyncClient`` to use instead
    of the check's.
    """

    component_type = "component"

    def __init__(
        self,
        url: str,
        *,
        name: str = "http",
        timeout: float = 2.0,
        expected_status: int | Iterable[int] = range(200, 300),
        body_match: str | re.Pattern[str] | None = None,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(f"check {name!r}: timeout must be positive, not {timeout!r}")
        self._httpx = require("httpx", "http")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # Never echo the value: it may carry a password.
            raise ConfigurationError(f"check {name!r}: the URL must be http:// or https://")
        self.name = name
        self.timeout = float(timeout)
        codes = (expected_status,) if isinstance(expected_status, int) else expected_status
        if not isinstance(codes, (str, bytes)):
            codes = tuple(codes)  # an iterator is read once
        if isinstance(codes, (str, bytes)) or not all(
            isinstance(code, int) and not isinstance(code, bool) for code in codes
        ):
            # A string would be iterated as characters and never match a status.
            raise ConfigurationError(
                f"check {name!r}: expected_status must be an integer or integers"
            )
        self.expected_status = frozenset(codes)
        if not self.expected_status:
            raise ConfigurationError(f"check {name!r}: expected_status is empty")
        if headers is not None and not (
            isinstance(headers, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            raise ConfigurationError(f"check {name!r}: headers must map names to strings")
        self.body_match = body_match
        self._headers = dict(headers or {})
        self._auth: tuple[str, str] | None = None
        if parts.username is not None or parts.password is not None:
            self._auth = (
                urllib.parse.unquote(parts.username or ""),
                urllib.parse.unquote(parts.password or ""),
            )
            netloc = parts.netloc.rpartition("@")[2]
            parts = parts._replace(netloc=netloc)
        self._url = urllib.parse.urlunsplit(parts)
        self._client = client
        self._owned = client is None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Declared to the engine, which scrubs them from every output.
        self.secrets = (
            *dsn_secrets(url),
            *(v for k, v in self._headers.items() if _SECRET_HEADER.search(k) and v),
        )

    async def acheck(self) -> CheckResult:
        """One GET; the result follows the rules in the class docstring."""
        client = self._client
        loop = asyncio.get_running_loop()
        if self._owned and self._loop is not loop:
            # A client made on another (finished) event loop can be neither used nor closed here.
            client = None
        if client is None:
            client = self._httpx.AsyncClient(
                timeout=self._httpx.Timeout(self.timeout),
                follow_redirects=False,
                # A probe goes straight to its target; pass your own client for a proxy.
                trust_env=False,
            )
            self._client, self._loop = client, loop
        auth = self._httpx.BasicAuth(*self._auth) if self._auth else self._httpx.USE_CLIENT_DEFAULT
        async with client.stream("GET", self._url, headers=self._headers, auth=auth) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    break
            return self.judge(
                response.status_code, response.headers.get("content-type"), bytes(body)
            )

    async def aclose(self) -> None:
        """Close the client this check created (a client you passed stays open)."""
        if self._owned and self._client is not None:
            client, self._client = self._client, None
            # A client of another (finished) loop cannot be closed from this one.
            if self._loop is asyncio.get_running_loop():
                await client.aclose()

    def judge(self, status_code: int, content_type: str | None, body: bytes) -> CheckResult:
        """The result for one response (pure: no I/O).

        Only the first :data:`MAX_BODY` bytes of ``body`` are read: a
        health+json document longer than that fails (it cannot be parsed
        whole), and ``body_match`` is searched for in that much only.
        """
        oversized = len(body) > MAX_BODY
        body = body[:MAX_BODY]
        details: dict[str, Any] = {"http_status": status_code}
        expected = status_code in self.expected_status
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        if media_type == HEALTH_JSON:
            if oversized:
                return CheckResult.failed(
                    f"HTTP {status_code}: the health+json body is larger than"
                    f" {MAX_BODY // 1024} KiB",
                    details=details,
                )
            return _judge_health_json(body, expected, details)
        if status_code == 429 and not expected and _says_warn(body):
            return CheckResult.warned(
                "the target reports warn (HTTP 429, warn_status)", details=details
            )
        if not expected:
            return CheckResult.failed(
                f"HTTP {status_code} is not an expected status", details=details
            )
        if self.body_match is not None:
            text = body.decode(errors="replace")
            found = (
                self.body_match in text
                if isinstance(self.body_match, str)
                else self.body_match.search(text) is not None
            )
            if not found:
                where = f" (in its first {MAX_BODY // 1024} KiB)" if oversized else ""
                return CheckResult.failed(
                    f"HTTP {status_code}, but the body does not match{where}", details=details
                )
        return CheckResult.passed(f"HTTP {status_code}", details=details)


def _judge_health_json(  # noqa: PLR0911 - one return per verdict the document can carry
    body: bytes, expected: bool, details: dict[str, Any]
) -> CheckResult:
    """Honour a health+json document: its warn degrades, its fail fails.

    A ``pass`` document with an unexpected status code is contradictory and
    fails; so does a document that is not JSON or carries no known status.
    """
    code = details["http_status"]
    try:
        document = json.loads(body)
        word = document["status"]
        status = Status.parse(word)
    except (ValueError, KeyError, TypeError):
        return CheckResult.failed(
            f"HTTP {code}: the health+json body has no valid status", details=details
        )
    details["target_status"] = status.value
    reason = document.get("output") or document.get("description")
    # The target's reason is kept short: it is scrubbed and stored with every reading.
    if isinstance(reason, str) and len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 1] + "…"
    suffix = f": {reason}" if isinstance(reason, str) and reason else ""
    if status is Status.FAIL:
        return CheckResult.failed(f"the target reports fail (HTTP {code}){suffix}", details=details)
    if status is Status.WARN and code == 429:
        return CheckResult.warned(f"the target reports warn (HTTP 429){suffix}", details=details)
    if not expected:
        return CheckResult.failed(f"HTTP {code} is not an expected status", details=details)
    if status is Status.WARN:
        return CheckResult.warned(f"the target reports warn{suffix}", details=details)
    if status is Status.UNKNOWN:
        return CheckResult.unknown(f"the target reports unknown{suffix}", details=details)
    return CheckResult.passed(f"the target reports pass (HTTP {code})", details=details)


def _says_warn(body: bytes) -> bool:
    """True when ``body`` is a JSON object whose ``status`` reads as warn (``degraded``...)."""
    try:
        document = json.loads(body)
        return Status.parse(document["status"]) is Status.WARN
    except (ValueError, KeyError, TypeError):
        return False
