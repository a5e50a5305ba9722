"""A client-side deadline for blocking or async I/O on a socket the driver owns.

libpq (psycopg) has no client-side command timeout: a server that keeps the
connection open and never answers holds the query forever.  Shutting the
socket down from outside makes the driver's pending read return at once
("server closed the connection"), which :func:`socket_deadline` turns into a
``TimeoutError``.  Only for connections the check owns: the connection is
unusable afterwards and must be thrown away.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Iterator

__all__ = ["socket_deadline"]


class _Watchdog:
    """Shuts a socket down if not finished within ``timeout``: a client-side query timeout.

    libpq has no client-side command timeout; a shut-down socket makes the
    blocked read return at once (as "server closed the connection").
    """

    def __init__(self, fileno: int, timeout: float, loop: asyncio.AbstractEventLoop | None) -> None:
        self._fileno = fileno
        self._lock = threading.Lock()
        self._done = False
        self._fired = False
        # On an event loop a timer callback costs nothing; a blocked thread needs a timer thread.
        self._timer: asyncio.TimerHandle | threading.Timer
        if loop is not None:
            self._timer = loop.call_later(timeout, self._fire)
        else:
            self._timer = threading.Timer(timeout, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def finish(self) -> bool:
        """Stop the watchdog; True when it had fired (the socket is shut down)."""
        self._timer.cancel()
        with self._lock:
            self._done = True
            return self._fired

    def _fire(self) -> None:
        # Under the lock, and only before finish(): the fd is still the connection's.
        with self._lock:
            if self._done:
                return
            self._fired = True
            try:
                with socket.socket(fileno=os.dup(self._fileno)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: the query fails on its own


@contextlib.contextmanager
def socket_deadline(
    fileno: int, timeout: float, nominal: float, loop: asyncio.AbstractEventLoop | None = None
) -> Iterator[None]:
    """Bound the block's I/O on socket ``fileno`` to ``timeout`` seconds (TimeoutError)."""
    dog = _Watchdog(fileno, timeout, loop)
    try:
        yield
    except Exception as exc:
        if dog.finish():
            raise TimeoutError(f"no answer within {nominal:g} s") from exc
        raise
    finally:
        dog.finish()
