"""The two values every transport adapter exchanges with the handler.

A transport (ASGI, WSGI, the management listener...) turns its request into
a :class:`Request`, hands it to :class:`~healthprobe.http.handler.ProbeHandler`
and writes the :class:`Response` it gets back.  Nothing here knows about a
framework, a socket or a check.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

__all__ = ["TEXT", "Request", "Response"]

#: The content type of every plain-text answer (verbose probes, errors).
TEXT = "text/plain; charset=utf-8"
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class Request(NamedTuple):
    """What the handler needs of an HTTP request.

    ``path`` is percent-decoded and relative to where the handler is mounted;
    ``headers`` maps lower-case names to values (only ``accept`` and
    ``authorization`` are read).
    """

    method: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = _NO_HEADERS


class Response(NamedTuple):
    """What to answer.  ``head``: send the headers of ``body`` but not the body."""

    status: int
    body: bytes
    content_type: str = TEXT
    extra_headers: tuple[tuple[str, str], ...] = ()
    head: bool = False

    def headers(self) -> list[tuple[str, str]]:
        """Every response header, ``Content-Length`` and ``Cache-Control`` included."""
        return [
            ("content-type", self.content_type),
            ("content-length", str(len(self.body))),
            ("cache-control", "no-store"),
            ("x-content-type-options", "nosniff"),
            *self.extra_headers,
        ]


def method_not_allowed() -> Response:
    """The 405 every endpoint answers to anything but GET and HEAD."""
    return Response(
        405, b"method not allowed: use GET or HEAD\n", extra_headers=(("allow", "GET, HEAD"),)
    )
