"""One client a check opened itself: kept between runs, dropped after a failure.

The rules every "own connection" check follows (PostgreSQL's, written once
for the newer checks):

* opened on the first run, inside that run's time budget;
* one run at a time uses it, so overlapping runs never open a second one;
* any failure, timeout or cancellation drops it (its state is unknown), so
  the next run opens a fresh one: that is the reconnect after a restart;
* a client found already closed (the server hung up between runs) is
  replaced before use instead of failing one run;
* an asyncio client belongs to the loop that opened it: run from another
  loop, the check opens a new one there and disposes of the old one on its
  owner loop.

:class:`KeptAsync` is the asyncio form; :class:`KeptSync` the blocking one,
for drivers that run in the engine's worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from ._loops import dispose_on_owner, seconds_left

__all__ = ["KeptAsync", "KeptSync"]

T = TypeVar("T")
R = TypeVar("R")


class KeptAsync(Generic[T]):
    """An asyncio client opened by ``opener(deadline)`` and kept by a check.

    ``abort(client)`` must close it at once without waiting on the network
    (it runs after a timeout, on the loop that opened the client; it may
    start a task there); ``closer`` is the
    polite close of :meth:`aclose` (bounded by ``close_timeout``);
    ``usable(client)`` says whether a kept client may still be used;
    ``loop_bound=False`` for a client any loop may use and close (a socket).
    """

    def __init__(
        self,
        opener: Callable[[float], Awaitable[T]],
        *,
        abort: Callable[[T], None],
        closer: Callable[[T], Awaitable[None]] | None = None,
        usable: Callable[[T], bool] | None = None,
        close_timeout: float = 2.0,
        loop_bound: bool = True,
    ) -> None:
        self._loop_bound = loop_bound
        self._open = opener
        self._abort = abort
        self._closer = closer
        self._usable = usable
        self._close_timeout = close_timeout
        self._client: T | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    @property
    def client(self) -> T | None:
        """The kept client, if one is open (for tests and diagnostics)."""
        return self._client

    async def run(self, timeout: float, use: Callable[[T, float], Awaitable[R]]) -> R:
        """``use(client, deadline)`` on the kept client, all within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop_bound:
                self.forget()  # a client of another loop is unusable here
            self._loop, self._lock = loop, asyncio.Lock()  # so is its lock
        assert self._lock is not None
        await asyncio.wait_for(self._lock.acquire(), seconds_left(deadline))
        try:
            client = self._client
            if client is not None and self._usable is not None and not self._usable(client):
                self.forget()
                client = None
            try:
                if client is None:
                    opening = self._open(deadline)
                    client = self._client = await asyncio.wait_for(opening, seconds_left(deadline))
                return await asyncio.wait_for(use(client, deadline), seconds_left(deadline))
            except BaseException:
                # Failed, timed out or cancelled mid-exchange: drop it, reconnect next run.
                self.forget()
                raise
        finally:
            self._lock.release()

    def forget(self) -> None:
        """Drop the kept client at once (closed on the loop that owns it).

        ``abort`` runs on the owner loop; a finished (closed) loop's sockets
        cannot be closed through it and go when the client is collected.  A
        client that is not ``loop_bound`` (a plain socket) is aborted here.
        """
        client, self._client = self._client, None
        owner = self._loop
        if client is None:
            return
        if not self._loop_bound:
            _quietly(self._abort, client)
        elif owner is not None and not owner.is_closed():
            dispose_on_owner(owner, lambda: _quietly(self._abort, client))

    async def aclose(self) -> None:
        """Close the kept client politely (bounded); abort it when that fails."""
        client = self._client
        if client is None:
            return
        if self._loop is not asyncio.get_running_loop() or self._closer is None:
            self.forget()
            return
        self._client = None
        try:
            await asyncio.wait_for(self._closer(client), self._close_timeout)
        except Exception:
            _quietly(self._abort, client)


class KeptSync(Generic[T]):
    """The blocking twin: a client used from the engine's worker thread.

    ``close()`` is called on the event loop by ``Health.astop()`` and never
    waits for a run in flight: that run closes the client when it ends.
    ``drop_on_failure=False`` keeps a client that reconnects by itself (a
    ZooKeeper session) after a failed run; ``usable`` still replaces a dead one.
    """

    def __init__(
        self,
        opener: Callable[[float], T],
        *,
        abort: Callable[[T], None],
        usable: Callable[[T], bool] | None = None,
        drop_on_failure: bool = True,
    ) -> None:
        self._open = opener
        self._abort = abort
        self._usable = usable
        self._drop_on_failure = drop_on_failure
        self._client: T | None = None
        self._lock = threading.Lock()
        self._closing = False

    @property
    def client(self) -> T | None:
        """The kept client, if one is open (for tests and diagnostics)."""
        return self._client

    def run(self, timeout: float, use: Callable[[T, float], R]) -> R:
        """``use(client, deadline)`` on the kept client; one run at a time."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            raise TimeoutError(f"the previous run still holds the connection after {timeout:g} s")
        try:
            self._closing = False
            client = self._client
            if client is not None and self._usable is not None and not self._usable(client):
                self._drop()
                client = None
            try:
                if client is None:
                    client = self._client = self._open(deadline)
                return use(client, deadline)
            except BaseException:
                if self._drop_on_failure:
                    self._drop()
                raise
        finally:
            if self._closing:  # close() came while this run held the client
                self._drop()
            self._lock.release()

    def close(self) -> None:
        """Close the kept client now, or when the run holding it ends."""
        self._closing = True
        if self._lock.acquire(blocking=False):
            try:
                self._drop()
            finally:
                self._lock.release()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _quietly(self._abort, client)


def _quietly(abort: Callable[[T], None], client: T) -> None:
    # Best effort: the client is being thrown away either way.
    with contextlib.suppress(Exception):
        abort(client)
