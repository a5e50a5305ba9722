"""TLS certificate: days until the peer's certificate expires (standard library ssl).

The check performs a real handshake, so it also proves the endpoint serves
TLS.  The expiry date is read from the certificate itself (its DER bytes),
which works whether or not the certificate verified: an expired certificate
fails verification, and the check still tells you *when* it expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import time
from typing import Any

from healthprobe.checks._dsn import dsn_secrets
from healthprobe.checks._levels import grade, option, thresholds, timeout_option
from healthprobe.checks.tcp import _describe as _describe_socket_error
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

__all__ = ["TlsCheck"]

_CLOSE_WAIT = 0.5


class TlsCheck:
    """Handshake with ``host:port`` and grade the days left on its certificate.

    * ``warn_days``: fewer days left than this warns (default 30).
    * ``fail_days``: fewer days left than this fails (default 0: only an
      expired certificate fails, because failing readiness while the
      certificate still works would take a working service out of rotation).
    * ``verify`` (default True): the certificate must verify (chain and host
      name) against ``context`` (default: the system's trust store).  When it
      does not, the check fails with the reason, and a second, unverified
      handshake still reads the expiry date into the result.  ``verify=False``
      only grades the date (self-signed internal endpoints).
    * ``server_hostname``: the name sent in SNI and verified (default ``host``).

    The observed value is the days left (negative once expired), unit ``days``.
    ``host`` and ``server_hostname`` are declared secret unless loopback.
    """

    component_type = "component"

    def __init__(
        self,
        host: str,
        port: int = 443,
        *,
        name: str = "tls",
        timeout: float = 5.0,
        warn_days: float | None = 30.0,
        fail_days: float | None = 0.0,
        verify: bool = True,
        context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> None:
        if not isinstance(host, str) or not host:
            raise ConfigurationError(f"check {name!r}: host must be a non-empty string")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigurationError(f"check {name!r}: port must be 1-65535, not {port!r}")
        if context is not None and not verify:
            raise ConfigurationError(
                f"check {name!r}: context is for verification; with verify=False leave it out"
            )
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.host = host
        self.port = port
        self.warn_days = option(name, "warn_days", warn_days, low=None)
        self.fail_days = option(name, "fail_days", fail_days, low=None)
        thresholds(
            name,
            ("warn_days", self.warn_days),
            ("fail_days", self.fail_days),
            higher_is_worse=False,
        )
        self.verify = bool(verify)
        self.server_hostname = server_hostname or host
        self._context = context or (ssl.create_default_context() if verify else _unverified())
        self.secrets = (*dsn_secrets(host), *dsn_secrets(server_hostname))

    async def acheck(self) -> CheckResult:
        """One handshake (two when verification fails); the date decides the level."""
        problem = None
        deadline = time.monotonic() + self.timeout
        try:
            try:
                der = await self._peer_certificate(self._context, self.timeout)
            except ssl.SSLCertVerificationError as exc:
                problem = exc.verify_message or exc.reason or "certificate verify failed"
                # The second handshake only gets what is left of the run's time.
                left = max(0.01, deadline - time.monotonic())
                der = await self._peer_certificate(_unverified(), left)
        except (asyncio.TimeoutError, TimeoutError):
            return CheckResult.failed(f"no TLS handshake within {self.timeout:g} s")
        except ssl.SSLError as exc:
            return CheckResult.failed(f"TLS handshake failed: {exc.reason or 'SSL error'}")
        except OSError as exc:
            text = _describe_socket_error(exc)
            if problem is not None:
                text = f"certificate does not verify: {problem}; then {text}"
            return CheckResult.failed(text)
        not_after = not_after_of(der)
        remaining = (not_after - dt.datetime.now(dt.timezone.utc)).total_seconds()
        expired = remaining <= 0  # decided before rounding: -0.001 days is expired
        days = round(remaining / 86400, 2)
        when = not_after.strftime("%Y-%m-%d %H:%M UTC")
        text = (
            f"certificate expired {abs(days):g} days ago ({when})"
            if expired
            else f"certificate expires in {days:g} days ({when})"
        )
        fields: dict[str, Any] = {
            "details": {
                "not_after": not_after.isoformat(),
                "verified": problem is None and self.verify,
            },
            "observed_value": days,
            "observed_unit": "days",
        }
        if problem is not None:
            fields["details"]["verify_error"] = problem
            return CheckResult.failed(f"certificate does not verify: {problem}; {text}", **fields)
        status = (
            Status.FAIL
            if expired
            else grade(remaining / 86400, self.warn_days, self.fail_days, higher_is_worse=False)
        )
        limit = self.fail_days if status is Status.FAIL else self.warn_days
        if status is not Status.PASS and not expired and limit is not None:
            text += f" ({status.value} below {limit:g} days)"
        return CheckResult(status, text, **fields)

    async def _peer_certificate(self, context: ssl.SSLContext, timeout: float) -> bytes:
        """Handshake, take the peer's certificate (DER) and close, all within the timeout."""
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(
                self.host,
                self.port,
                ssl=context,
                server_hostname=self.server_hostname,
                ssl_handshake_timeout=timeout,
            ),
            timeout,
        )
        try:
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), _CLOSE_WAIT)
        if not der:
            raise ssl.SSLError("the server sent no certificate")
        return bytes(der)


def _unverified() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def not_after_of(der: bytes) -> dt.datetime:
    """The ``notAfter`` time (UTC) of a DER-encoded X.509 certificate.

    Walks only as much ASN.1 as needed: Certificate -> tbsCertificate ->
    [version], serialNumber, signature, issuer, validity -> notAfter.
    Raises ``ValueError`` on anything that does not parse.
    """
    _, cert_start, _ = _tlv(der, 0, expect=0x30)
    _, tbs_start, tbs_end = _tlv(der, cert_start, expect=0x30)
    position = tbs_start
    if der[position] == 0xA0:  # explicit [0] version
        position = _tlv(der, position)[2]
    for _ in range(3):  # serialNumber, signature, issuer
        position = _tlv(der, position)[2]
    _, validity_start, validity_end = _tlv(der, position, expect=0x30)
    not_before_end = _tlv(der, validity_start)[2]
    tag, start, end = _tlv(der, not_before_end)
    if end > validity_end or end > tbs_end:
        raise ValueError("malformed certificate: validity overruns its container")
    text = der[start:end].decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ: years 50-99 are 19xx (RFC 5280)
        parsed = dt.datetime.strptime(text, "%y%m%d%H%M%SZ")
        if parsed.year >= 2050:
            parsed = parsed.replace(year=parsed.year - 100)
    elif tag == 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        parsed = dt.datetime.strptime(text, "%Y%m%d%H%M%SZ")
    else:
        raise ValueError(f"malformed certificate: notAfter has tag {tag:#x}")
    return parsed.replace(tzinfo=dt.timezone.utc)


def _tlv(der: bytes, position: int, expect: int | None = None) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``position``."""
    if position + 2 > len(der):
        raise ValueError("malformed certificate: truncated")
    tag, length = der[position], der[position + 1]
    if expect is not None and tag != expect:
        raise ValueError(f"malformed certificate: tag {tag:#x} where {expect:#x} was expected")
    start = position + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("malformed certificate: bad length")
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    end = start + length
    if end > len(der):
        raise ValueError("malformed certificate: truncated")
    return tag, start, end
