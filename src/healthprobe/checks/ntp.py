"""Clock skew: this host's clock against an NTP server, by one SNTP request per run.

Standard library only.  The check keeps one connected UDP socket: a request
is one datagram each way, and a connected socket also hears the ICMP "port
unreachable" of a host with no NTP server, so that fails at once instead of
at the timeout.  Each answer is matched to its request (the server echoes
our transmit time), so a late answer to an earlier, timed-out run is never
taken for the current one::

    health.add(NtpCheck("ntp.internal", offset_warn=0.1, offset_fail=1.0))
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import Any

from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

from ._dsn import dsn_secrets
from ._kept import KeptAsync
from ._levels import grade, option, thresholds, timeout_option
from ._loops import seconds_left

__all__ = ["NtpCheck"]

#: Seconds from the NTP era (1900) to the Unix epoch (1970).
_NTP_EPOCH = 2_208_988_800
_PACKET = struct.Struct("!BBbbII4sQQQQ")
_LEAP_UNSYNCHRONISED = 3
_MODE_SERVER = 4


class NtpCheck:
    """The offset of this host's clock from an NTP server's, in seconds.

    The observed value is the signed offset (positive: this clock is behind
    the server), unit ``s``; ``offset_warn`` / ``offset_fail`` grade its
    absolute value (default: warn at 0.1 s, fail at 1 s; ``None`` turns one
    off).  A server that is itself unsynchronised (leap indicator 3) or that
    answers with a kiss-o'-death (stratum 0) fails the check.  Details: the
    server's stratum, the round-trip delay and the reference id of a
    stratum-1 server.  ``timeout`` (seconds) bounds resolving and the exchange.
    """

    component_type = "system"

    def __init__(
        self,
        host: str,
        *,
        name: str = "ntp",
        port: int = 123,
        timeout: float = 2.0,
        offset_warn: float | None = 0.1,
        offset_fail: float | None = 1.0,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        if not isinstance(host, str) or not host or "/" in host or "@" in host:
            # Never echo the value: it came from configuration.
            raise ConfigurationError(f"check {name!r}: host must be a host name or address")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigurationError(f"check {name!r}: port must be 1-65535, not {port!r}")
        self.offset_warn = option(name, "offset_warn", offset_warn, strict_low=True)
        self.offset_fail = option(name, "offset_fail", offset_fail, strict_low=True)
        thresholds(
            name,
            ("offset_warn", self.offset_warn),
            ("offset_fail", self.offset_fail),
            higher_is_worse=True,
        )
        self.host = host
        self.port = port
        self.secrets: tuple[str, ...] = dsn_secrets(f"ntp://{host}")
        self._kept: KeptAsync[socket.socket] = KeptAsync(
            self._open, abort=_close_socket, loop_bound=False
        )

    def __repr__(self) -> str:
        # Never the host: a repr ends up in logs and tracebacks.
        return f"<NtpCheck {self.name!r}>"

    async def acheck(self) -> CheckResult:
        """One SNTP exchange; raises (= fail) when no valid answer came within ``timeout``."""
        return await self._kept.run(self.timeout, self._query)

    async def aclose(self) -> None:
        """Close the check's UDP socket."""
        self._kept.forget()

    def result(
        self, offset: float, delay: float, stratum: int, leap: int, ref: bytes
    ) -> CheckResult:
        """The reading of one answer (a pure function of it)."""
        details: dict[str, Any] = {
            "stratum": stratum,
            "delay_seconds": round(delay, 6),
        }
        if stratum == 1:
            details["reference"] = ref.rstrip(b"\0").decode("ascii", "replace")
        common: dict[str, Any] = {
            "details": details,
            "observed_value": round(offset, 6),
            "observed_unit": "s",
            "component_type": self.component_type,
        }
        if stratum == 0:
            code = ref.rstrip(b"\0").decode("ascii", "replace")
            return CheckResult.failed(f"NTP server refused the request ({code})", **common)
        if leap == _LEAP_UNSYNCHRONISED:
            return CheckResult.failed("NTP server is not synchronised itself", **common)
        text = f"clock offset {offset * 1000:+.1f} ms from the NTP server (stratum {stratum})"
        level = grade(abs(offset), self.offset_warn, self.offset_fail, higher_is_worse=True)
        if level is Status.FAIL:
            return CheckResult.failed(f"{text}: fail at {self.offset_fail:g} s", **common)
        if level is Status.WARN:
            return CheckResult.warned(f"{text}: warn at {self.offset_warn:g} s", **common)
        return CheckResult.passed(text, **common)

    async def _open(self, deadline: float) -> socket.socket:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            sock.connect(address)  # UDP: no packet; it fixes the peer and lets ICMP errors in
        except BaseException:
            sock.close()
            raise
        return sock

    async def _query(self, sock: socket.socket, deadline: float) -> CheckResult:
        loop = asyncio.get_running_loop()
        sent = time.time()
        stamp = _to_ntp(sent)
        request = bytearray(48)
        request[0] = 0x23  # leap 0, version 4, mode 3 (client)
        request[40:48] = stamp.to_bytes(8, "big")
        await loop.sock_sendall(sock, bytes(request))
        while True:
            data = await asyncio.wait_for(loop.sock_recv(sock, 512), seconds_left(deadline))
            received = time.time()
            if len(data) < _PACKET.size:
                continue
            fields = _PACKET.unpack_from(data)
            first, stratum, _, _, _, _, ref, _, origin, t2, t3 = fields
            if origin != stamp or first & 0x7 != _MODE_SERVER:
                continue  # an answer to an earlier run, or not an answer at all
            offset = ((_from_ntp(t2) - sent) + (_from_ntp(t3) - received)) / 2
            delay = (received - sent) - (_from_ntp(t3) - _from_ntp(t2))
            return self.result(offset, max(delay, 0.0), stratum, first >> 6, ref)


def _to_ntp(unix: float) -> int:
    return int((unix + _NTP_EPOCH) * 2**32) & 0xFFFF_FFFF_FFFF_FFFF


def _from_ntp(value: int) -> float:
    return value / 2**32 - _NTP_EPOCH


def _close_socket(sock: socket.socket) -> None:
    sock.close()
