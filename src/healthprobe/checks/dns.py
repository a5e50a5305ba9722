"""DNS: a name resolves to at least one address (standard library)."""

from __future__ import annotations

import asyncio
import socket
import time

from healthprobe.checks._dsn import dsn_secrets
from healthprobe.checks._levels import timeout_option
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

__all__ = ["DnsCheck"]

_FAMILIES = {0: "any", socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}


class DnsCheck:
    """Resolves ``hostname`` with the system resolver (``loop.getaddrinfo``).

    Passes when it yields at least ``min_addresses`` distinct addresses; the
    resolution time is the observed value (ms) and the count of addresses per
    family is in details.  The addresses themselves, canonical names and the
    resolver's own messages are never shown (they reveal internal names and
    networks); neither is ``hostname`` unless it is a loopback name.

    ``family``: ``socket.AF_INET`` or ``AF_INET6`` to ask for one family only.
    The resolver runs in the loop's default executor; a resolver that hangs
    past ``timeout`` fails the check while its thread finishes on its own.
    """

    component_type = "component"

    def __init__(
        self,
        hostname: str,
        *,
        name: str = "dns",
        timeout: float = 2.0,
        family: int = 0,
        min_addresses: int = 1,
    ) -> None:
        if not isinstance(hostname, str) or not hostname:
            raise ConfigurationError(f"check {name!r}: hostname must be a non-empty string")
        if family not in _FAMILIES:
            raise ConfigurationError(
                f"check {name!r}: family must be 0, socket.AF_INET or socket.AF_INET6"
            )
        if (
            isinstance(min_addresses, bool)
            or not isinstance(min_addresses, int)
            or min_addresses < 1
        ):
            raise ConfigurationError(
                f"check {name!r}: min_addresses must be an integer of at least 1, "
                f"not {min_addresses!r}"
            )
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.hostname = hostname
        self.family = family
        self.min_addresses = min_addresses
        self.secrets = dsn_secrets(hostname)

    async def acheck(self) -> CheckResult:
        """Resolve once; a name that does not resolve (or too few addresses) fails."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(self.hostname, None, family=self.family, type=socket.SOCK_STREAM),
                self.timeout,
            )
        except (asyncio.TimeoutError, TimeoutError):
            return CheckResult.failed(f"no answer from the resolver within {self.timeout:g} s")
        except socket.gaierror as exc:
            return CheckResult.failed(_describe(exc))
        elapsed_ms = round((time.monotonic() - started) * 1000, 3)
        addresses = {(info[0], info[4][0]) for info in infos}
        counts: dict[str, int] = {}
        for family, _ in addresses:
            label = _FAMILIES.get(family, "other")
            counts[label] = counts.get(label, 0) + 1
        fields = {
            "details": {"addresses": len(addresses), "by_family": counts},
            "observed_value": elapsed_ms,
            "observed_unit": "ms",
        }
        if len(addresses) < self.min_addresses:
            return CheckResult.failed(
                f"resolved to {len(addresses)} address(es), fewer than {self.min_addresses}",
                **fields,
            )
        return CheckResult.passed(
            f"resolved to {len(addresses)} address(es) in {elapsed_ms:g} ms", **fields
        )


def _describe(exc: socket.gaierror) -> str:
    """The kind of resolver failure, never the resolver's text."""
    kinds = {
        "EAI_NONAME": "the name does not exist",
        "EAI_NODATA": "the name has no address of the asked family",
        "EAI_AGAIN": "temporary resolver failure",
        "EAI_FAIL": "the resolver failed",
    }
    for code, text in kinds.items():
        # Not every platform defines every code.
        if exc.errno is not None and exc.errno == getattr(socket, code, None):
            return text
    return "the name does not resolve"
