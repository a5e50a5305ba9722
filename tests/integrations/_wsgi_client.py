"""Calling a WSGI application directly, the way a WSGI server does (PEP 3333), for the tests."""

from __future__ import annotations

import io
import wsgiref.util
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from healthprobe.integrations.wsgi import StartResponse


class WSGIResult(NamedTuple):
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


def call_wsgi(
    app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
    target: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    script_name: str = "",
) -> WSGIResult:
    """One request to ``app``; ``target`` is a path with an optional query string."""
    parts = urlsplit(target)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        # PEP 3333: PATH_INFO carries the raw (UTF-8) bytes decoded as latin-1.
        "PATH_INFO": parts.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": parts.query,
        "wsgi.input": io.BytesIO(b""),
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    wsgiref.util.setup_testing_defaults(environ)
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None, /
    ) -> Callable[[bytes], object]:
        seen.append((status, response_headers))
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    assert len(seen) == 1, "start_response must be called exactly once"
    status, response_headers = seen[0]
    code, _, reason = status.partition(" ")
    return WSGIResult(int(code), reason, {k.lower(): v for k, v in response_headers}, body)
