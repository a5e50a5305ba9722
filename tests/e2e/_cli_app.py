"""A tiny ASGI app for the CLI tests: fixed answers per path, served by a real uvicorn.

``/ok`` 200, ``/fail`` 503, ``/moved`` 302, ``/sleep`` answers after 30 s,
``/auth`` 200 only with ``Authorization: Bearer s3cret-token``, else 401.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]

_FIXED = {"/ok": 200, "/fail": 503, "/moved": 302}


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/sleep":
        await asyncio.sleep(30)
        status = 200
    elif path == "/auth":
        headers = dict(scope["headers"])
        status = 200 if headers.get(b"authorization") == b"Bearer s3cret-token" else 401
    else:
        status = _FIXED.get(path, 404)
    extra = [(b"location", b"/ok")] if status == 302 else []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), *extra],
        }
    )
    await send({"type": "http.response.body", "body": str(status).encode()})
