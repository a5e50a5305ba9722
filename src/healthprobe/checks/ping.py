"""Ping: ICMP reachability through the system's ``ping`` program.

Sending ICMP needs raw sockets (root) or a kernel setting; the ``ping``
program already has what it needs, so the check runs it as an asyncio
subprocess: one echo request, one reply expected.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import shutil
import sys

from healthprobe.checks._dsn import dsn_secrets
from healthprobe.checks._levels import timeout_option
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.sanitize import sanitize

__all__ = ["PingCheck"]

_RTT = re.compile(rb"time[=<]\s*(?P<ms>\d+(?:\.\d+)?)\s*ms")
#: How long a killed ping may take to be reaped before it is left to asyncio.
_REAP_WAIT = 1.0


class PingCheck:
    """``ping -n -c 1 -W <s> host``: passes on a reply, with its round-trip time in ms.

    * No ``ping`` on ``PATH`` (looked up on every run) fails with "ping is not
      installed"; no reply fails with "no reply"; an error ping reports (an
      unknown host, no permission) fails with ping's last line, scrubbed.
    * ``-W`` is ``timeout`` rounded up to whole seconds (Linux iputils and
      BusyBox; in milliseconds for the BSDs and macOS, whose ``-W`` counts
      those); the check itself is bounded by ``timeout``, and a ping still
      running then, or when the run is cancelled, is killed and reaped.
      Windows' ``ping`` takes other options and is not supported.
    * ``host`` is declared secret unless it is a loopback address.
    """

    component_type = "component"

    def __init__(
        self, host: str, *, name: str = "ping", timeout: float = 2.0, program: str = "ping"
    ) -> None:
        # A host starting with "-" would be read by ping as an option.
        if (
            not isinstance(host, str)
            or not host
            or host.startswith("-")
            or any(c.isspace() for c in host)
        ):
            raise ConfigurationError(
                f"check {name!r}: host must be a host name or address (no spaces, no leading '-')"
            )
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.host = host
        self.program = program
        self.secrets = dsn_secrets(host)

    async def acheck(self) -> CheckResult:
        """Run one ping; the subprocess never outlives the run."""
        executable = shutil.which(self.program)
        if executable is None:
            return CheckResult.failed(
                f"{self.program} is not installed (no {self.program!r} on PATH)"
            )
        wait = max(1, math.ceil(self.timeout))
        if sys.platform.startswith(("darwin", "freebsd", "openbsd", "netbsd")):
            wait *= 1000  # BSD ping reads -W in milliseconds
        process = await asyncio.create_subprocess_exec(
            executable,
            "-n",
            "-c",
            "1",
            "-W",
            str(wait),
            self.host,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), self.timeout)
        except (asyncio.TimeoutError, TimeoutError):
            return CheckResult.failed(f"no reply within {self.timeout:g} s")
        finally:
            # On a timeout and on cancellation alike: no ping outlives its run.
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                    await asyncio.wait_for(process.wait(), _REAP_WAIT)
        return self._result(process.returncode, stdout, stderr)

    def _result(self, code: int | None, stdout: bytes, stderr: bytes) -> CheckResult:
        if code == 0:
            found = _RTT.search(stdout)
            if found is None:  # a ping whose output we cannot read still got its reply
                return CheckResult.passed("reply received")
            rtt = float(found["ms"])
            return CheckResult.passed(
                f"reply in {rtt:g} ms", observed_value=rtt, observed_unit="ms"
            )
        if code == 1:
            return CheckResult.failed(f"no reply within {self.timeout:g} s")
        lines = stderr.decode(errors="replace").strip().splitlines()
        reason = sanitize(lines[-1], self.secrets, max_length=200) if lines else "no message"
        return CheckResult.failed(f"ping failed (exit status {code}): {reason}")
