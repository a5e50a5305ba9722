"""An aiosmtpd server that takes one login (``probe`` / ``right-pw``), as a process of its own.

aiosmtpd's command line has no authenticator; this is the same server with
one, logging each accepted connection ("Peer: ...") like ``-d`` does.
Run as ``python -m tests.services._smtp_server HOST PORT``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER, PASSWORD = b"probe", b"right-pw"


def authenticate(
    server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER,
        PASSWORD,
    )
    # handled=False: aiosmtpd answers the refusal itself (535).
    return AuthResult(success=ok, handled=False)


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        # AUTH without TLS: a loopback test server only.
        lambda: SMTP(Sink(), authenticator=authenticate, auth_require_tls=False),
        host,
        port,
    )
    await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
