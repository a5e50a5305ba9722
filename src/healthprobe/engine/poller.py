"""Background polling: checks with an ``interval`` refresh themselves on a loop.

With jitter (the default) each wait is the interval ±10 %, and the first
poll comes after ``initial_delay`` plus a random share of one interval, so
that replicas started together (a rollout, a node reboot) do not hit a
dependency in lock-step.  Without it, the first poll comes after
``initial_delay`` exactly and then every ``interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from .runtime import CheckRuntime

__all__ = ["Poller"]

logger = logging.getLogger("healthprobe")


class Poller:
    """Owns one polling task per polled check, all on one event loop."""

    def __init__(self, *, jitter: bool = True) -> None:
        self.jitter = jitter
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: dict[str, tuple[CheckRuntime, asyncio.Task[None]]] = {}

    @property
    def running(self) -> bool:
        return self.loop is not None

    def start(self, runtimes: list[CheckRuntime]) -> None:
        """Start polling ``runtimes`` on the running loop (idempotent per check)."""
        self.loop = asyncio.get_running_loop()
        for runtime in runtimes:
            self.add(runtime)

    def add(self, runtime: CheckRuntime, *, delay: float | None = None) -> None:
        """Poll one more check; must be called on the poller's loop.

        ``delay``: seconds before the first poll instead of the usual first
        delay (a worker taking over a host's polling goes on with its schedule).
        """
        if self.loop is None or runtime.spec.interval is None or runtime.name in self._tasks:
            return
        runtime.polling = True
        task = self.loop.create_task(
            _poll(runtime, self.jitter, delay), name=f"healthprobe-poll:{runtime.name}"
        )
        self._tasks[runtime.name] = (runtime, task)

    async def stop(self) -> None:
        """Cancel every polling task and wait until they have ended."""
        polled = list(self._tasks.values())
        self._tasks.clear()
        self.loop = None
        for _, task in polled:
            task.cancel()
        for runtime, task in polled:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # Here, not only in _poll's `finally`: a task cancelled before its
            # first step never runs its body, and its check would stay
            # "polled" (served as "no result yet" for good) instead of
            # running on demand.
            runtime.polling = False


#: How far a jittered wait may stray from the interval, as a share of it.
JITTER = 0.1


def first_delay(initial_delay: float, interval: float, jitter: bool) -> float:
    """Seconds before a check's first poll."""
    if not jitter:
        return initial_delay
    return initial_delay + random.uniform(0.0, interval)  # noqa: S311 - spreading load, not secrecy


def next_delay(interval: float, jitter: bool) -> float:
    """Seconds between two polls."""
    if not jitter:
        return interval
    return interval * random.uniform(1.0 - JITTER, 1.0 + JITTER)  # noqa: S311 - as above


async def _poll(runtime: CheckRuntime, jitter: bool, delay: float | None = None) -> None:
    interval = runtime.spec.interval
    assert interval is not None
    if delay is None:
        delay = first_delay(runtime.spec.initial_delay, interval, jitter)
    try:
        await asyncio.sleep(delay)
        while True:
            try:
                await runtime.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let one bad run end the polling
                logger.error(
                    "healthprobe: polling %s failed unexpectedly: %s",
                    runtime.name,
                    type(exc).__name__,
                )
            await asyncio.sleep(next_delay(interval, jitter))
    finally:
        runtime.polling = False
