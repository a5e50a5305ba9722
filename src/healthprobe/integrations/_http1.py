"""A minimal, strict HTTP/1.1 server side for the probe listener: one connection at a time.

Only what probes need, nothing a probe never sends: a request line and
headers, each bounded; no request body is ever read (a request announcing
one is answered, then the connection is closed, since what follows it is
not a request); keep-alive and pipelining in order; ``HEAD``.  Anything
malformed is a ``400`` and the connection closes; an oversize request line
is a ``414``, oversize headers a ``431``.  The request is handed on as the
transport-independent :class:`~healthprobe.http.messages.Request`.

Slow or idle clients are bounded by time: the whole head of a request must
arrive within ``head_timeout`` seconds, and an idle keep-alive connection is
closed after ``idle_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import re
from collections.abc import Awaitable, Callable
from typing import NamedTuple
from urllib.parse import unquote

from healthprobe.http.messages import TEXT, Request, Response

__all__ = ["Limits", "serve_connection"]

Answer = Callable[[Request], Awaitable[Response]]

_REASONS = {status.value: status.phrase for status in http.HTTPStatus}
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(rb"/[\x21-\x7e]*")  # origin-form, visible ASCII only
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")


class Limits(NamedTuple):
    """Bounds on what one request may send (bytes, counts and seconds)."""

    request_line: int = 8192
    header_line: int = 8192
    headers_total: int = 16384
    header_count: int = 64
    head_timeout: float = 10.0
    idle_timeout: float = 15.0


class _Reject(Exception):
    """The request cannot be served: answer ``status`` and close."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Head(NamedTuple):
    request: Request
    keep_alive: bool
    has_body: bool


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    answer: Answer,
    limits: Limits,
    *,
    all_headers: bool = False,
    closing: Callable[[], bool] = lambda: False,
) -> None:
    """Serve requests from one connection until it closes, errs or idles out.

    ``answer`` turns a request into a response and must not raise.
    ``all_headers``: hand every header on, not only ``accept`` and
    ``authorization``.  ``closing()`` true: answer the request in hand with
    ``Connection: close`` and stop (the server is shutting down).
    """
    first = True
    try:
        while True:
            try:
                head = await _read_head(reader, limits, first=first, all_headers=all_headers)
            except _Reject as reject:
                body = f"{reject.reason}\n".encode()
                await _write(writer, Response(reject.status, body, TEXT), keep_alive=False)
                return
            if head is None:
                return  # the client closed, or idled out between requests
            first = False
            response = await answer(head.request)
            keep_alive = head.keep_alive and not head.has_body and not closing()
            await _write(writer, response, keep_alive=keep_alive)
            if not keep_alive:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return  # the peer went away mid-request: nothing to answer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


async def _read_head(
    reader: asyncio.StreamReader, limits: Limits, *, first: bool, all_headers: bool
) -> _Head | None:
    """The next request's head; None when the connection ended cleanly before one."""
    # Idle time before a request starts is bounded apart from the head's own time.
    try:
        line = await asyncio.wait_for(
            _line(reader, limits.request_line, 414, "request line too long"),
            limits.idle_timeout,
        )
    except asyncio.TimeoutError:  # not the builtin before Python 3.11
        return None
    if line is None:
        return None
    if line == b"" and not first:
        # RFC 9112 2.2: a server should ignore an empty line before a request.
        line = await _line(reader, limits.request_line, 414, "request line too long")
        if line is None:
            return None
    try:
        return await asyncio.wait_for(
            _rest_of_head(reader, line, limits, all_headers), limits.head_timeout
        )
    except asyncio.TimeoutError:  # not the builtin before Python 3.11
        raise _Reject(408, "request timeout: the request head took too long") from None


async def _line(reader: asyncio.StreamReader, limit: int, status: int, what: str) -> bytes | None:
    """One CRLF-terminated line without its CRLF; None at a clean EOF before any byte."""
    try:
        data = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise _Reject(400, "bad request: the connection ended inside the request") from None
    except asyncio.LimitOverrunError:
        raise _Reject(status, what) from None
    except ValueError:  # the reader's own buffer limit (also a line that is too long)
        raise _Reject(status, what) from None
    if len(data) > limit + 2:
        raise _Reject(status, what)
    if not data.endswith(b"\r\n"):
        raise _Reject(400, "bad request: lines must end with CRLF")
    return data[:-2]


async def _rest_of_head(
    reader: asyncio.StreamReader, line: bytes, limits: Limits, all_headers: bool
) -> _Head:
    method, target, version = _request_line(line)
    headers: dict[str, str] = {}
    total = 0
    count = 0
    has_body = False
    connection = ""
    while True:
        field = await _line(reader, limits.header_line, 431, "request header fields too large")
        if field is None:
            raise _Reject(400, "bad request: the connection ended inside the headers")
        if not field:
            break
        count += 1
        total += len(field)
        if count > limits.header_count or total > limits.headers_total:
            raise _Reject(431, "request header fields too large")
        name, value = _header(field)
        if name == "content-length":
            if not value.isdigit():
                raise _Reject(400, "bad request: malformed content-length")
            has_body = has_body or int(value) > 0
        elif name == "transfer-encoding":
            has_body = True
        elif name == "connection":
            connection = f"{connection},{value.lower()}"
        if all_headers or name in ("accept", "authorization"):
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    options = {token.strip() for token in connection.split(",")}
    keep_alive = "keep-alive" in options if version == (1, 0) else "close" not in options
    path, _, query = target.partition("?")
    # As uvicorn does: the path is percent-decoded as UTF-8, the query kept raw.
    request = Request(method, unquote(path), query, headers)
    return _Head(request, keep_alive, has_body)


def _request_line(line: bytes) -> tuple[str, str, tuple[int, int]]:
    parts = line.split(b" ")
    if len(parts) != 3:
        raise _Reject(400, "bad request: malformed request line")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise _Reject(400, "bad request: malformed method")
    if not _TARGET.fullmatch(target):
        raise _Reject(400, "bad request: the target must be an absolute path")
    matched = _VERSION.fullmatch(version)
    if matched is None:
        raise _Reject(400, "bad request: malformed HTTP version")
    numbers = (int(matched[1]), int(matched[2]))
    if numbers[0] != 1:
        raise _Reject(505, "HTTP version not supported: use HTTP/1.1")
    return method.decode("ascii"), target.decode("ascii"), numbers


def _header(field: bytes) -> tuple[str, str]:
    name, colon, value = field.partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        # Also a line folded onto the previous one (obsolete, RFC 9112 5.2).
        raise _Reject(400, "bad request: malformed header field")
    value = value.strip(b" \t")
    if not _FIELD_VALUE.fullmatch(value):
        raise _Reject(400, "bad request: malformed header value")
    return name.decode("ascii").lower(), value.decode("latin-1")


async def _write(writer: asyncio.StreamWriter, response: Response, *, keep_alive: bool) -> None:
    status = response.status
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}".rstrip()]
    lines.extend(f"{name}: {value}" for name, value in response.headers())
    if not keep_alive:
        lines.append("connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    writer.write(head if response.head else head + response.body)
    await writer.drain()
