"""Deadlines and loop-bound connections (shared by the SQL checks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["dispose_on_owner", "running_loop", "seconds_left"]


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running loop of this thread, or None outside one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def dispose_on_owner(owner: asyncio.AbstractEventLoop | None, abort: Callable[[], None]) -> None:
    """Run ``abort`` (closing a kept connection) on the loop that owns the connection.

    A driver's transport belongs to the loop that opened it, which may be
    running in another thread (``Health.run()``'s engine loop): ``abort`` is
    then handed to that loop.  On this thread's loop, or when the owner is
    gone or closed, it runs here and now (a closed loop's socket goes with the
    connection object).
    """
    if owner is not None and owner is not running_loop() and not owner.is_closed():
        owner.call_soon_threadsafe(abort)
    else:
        abort()


def seconds_left(deadline: float) -> float:
    """Seconds until ``deadline`` (a ``time.monotonic()`` value); TimeoutError once it passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no time left before the check's timeout")
    return left
