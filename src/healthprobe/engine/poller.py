"""Background polling: checks with an ``interval`` refresh themselves on a loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .runtime import CheckRuntime

__all__ = ["Poller"]

logger = logging.getLogger("healthprobe")


class Poller:
    """Owns one polling task per polled check, all on one event loop."""

    def __init__(self) -> None:
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

    def add(self, runtime: CheckRuntime) -> None:
        """Poll one more check; must be called on the poller's loop."""
        if self.loop is None or runtime.spec.interval is None or runtime.name in self._tasks:
            return
        runtime.polling = True
        task = self.loop.create_task(_poll(runtime), name=f"healthprobe-poll:{runtime.name}")
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


async def _poll(runtime: CheckRuntime) -> None:
    interval = runtime.spec.interval
    assert interval is not None
    try:
        await asyncio.sleep(runtime.spec.initial_delay)
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
            await asyncio.sleep(interval)
    finally:
        runtime.polling = False
