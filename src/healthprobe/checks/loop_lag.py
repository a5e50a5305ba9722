"""Event-loop lag: how late the loop wakes a sleeping task (standard library).

A loop blocked by synchronous work (a CPU-bound request, a blocking driver
call) serves nothing while it is blocked, yet every other check still passes
once it unblocks.  This check measures the blockage itself: a background
sampler sleeps ``period`` seconds at a time and records how much later than
asked it woke up.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time

from healthprobe.checks._levels import grade, option, thresholds, timeout_option
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

__all__ = ["LoopLagCheck"]


class LoopLagCheck:
    """The worst scheduling delay of the event loop over the last ``window`` seconds.

    * ``warn`` / ``fail``: lag in seconds at or above which the check warns /
      fails (defaults 0.1 and 0.5; ``None`` disables one).
    * ``period``: seconds between samples (default 0.25).
    * ``window``: how far back (seconds) a lag still counts (default 10).

    It measures the loop it runs on: register it where probes run on the
    application's own loop (``await health.arun()`` in an ASGI app); with
    ``Health.run()`` it would measure healthprobe's private loop instead.
    The sampler starts on the loop of the first run and stops in
    :meth:`aclose` (``Health.astop()`` calls it).  The first run waits for one
    sample, so it never reports a lag it has not measured.  A sample overdue
    right now (the loop was just blocked and the sampler has not woken yet)
    counts as well.  The observed value is the lag in ms.
    """

    component_type = "system"
    #: Each worker measures its own loop, also with a shared directory.
    process_local = True

    def __init__(
        self,
        *,
        name: str = "loop_lag",
        timeout: float = 2.0,
        warn: float | None = 0.1,
        fail: float | None = 0.5,
        period: float = 0.25,
        window: float = 10.0,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.warn = option(name, "warn", warn)
        self.fail = option(name, "fail", fail)
        thresholds(name, ("warn", self.warn), ("fail", self.fail), higher_is_worse=True)
        self.period = float(option(name, "period", period, strict_low=True) or 0.0)
        self.window = float(option(name, "window", window, low=self.period) or 0.0)
        if self.period >= self.timeout:
            raise ConfigurationError(
                f"check {name!r}: period must be shorter than timeout (the first run waits "
                "for one sample)"
            )
        # (monotonic time of the sample, lag in seconds); bounded in count.
        self._samples: collections.deque[tuple[float, float]] = collections.deque(
            maxlen=max(1, int(self.window / self.period) + 1)
        )
        self._due: float | None = None  # when the sampler's current sleep should end
        # The sampler task and the event it sets after its first sample.
        self._sampler: tuple[asyncio.Task[None], asyncio.Event] | None = None

    async def acheck(self) -> CheckResult:
        """The worst lag in the window; starts the sampler on the first run."""
        loop = asyncio.get_running_loop()
        sampler = self._sampler
        if sampler is None or sampler[0].done() or sampler[0].get_loop() is not loop:
            if sampler is not None:
                _cancel(sampler[0])  # one sampler per check: the old loop's one ends
            self._samples.clear()
            sampled = asyncio.Event()
            task = loop.create_task(self._sample(sampled), name="healthprobe:loop_lag")
            sampler = self._sampler = (task, sampled)
        await sampler[1].wait()
        now = time.monotonic()
        recent = [lag for at, lag in self._samples if now - at <= self.window]
        overdue = max(0.0, now - self._due) if self._due is not None else 0.0
        lag = max([*recent, overdue])
        status = grade(lag, self.warn, self.fail, higher_is_worse=True)
        text = f"event loop lag up to {lag * 1000:.1f} ms in the last {self.window:g} s"
        limit = self.fail if status is Status.FAIL else self.warn
        if status is not Status.PASS and limit is not None:
            text += f" ({status.value} at {limit * 1000:g} ms)"
        return CheckResult(
            status,
            text,
            details={"samples": len(recent), "period_s": self.period},
            observed_value=round(lag * 1000, 3),
            observed_unit="ms",
        )

    async def aclose(self) -> None:
        """Stop the sampler (from its own loop, or from any other)."""
        sampler, self._sampler = self._sampler, None
        self._due = None
        if sampler is None or sampler[0].done():
            return
        task = sampler[0]
        if task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        else:
            _cancel(task)

    async def _sample(self, sampled: asyncio.Event) -> None:
        while True:
            asked = time.monotonic()
            self._due = asked + self.period
            await asyncio.sleep(self.period)
            woke = time.monotonic()
            self._samples.append((woke, max(0.0, woke - asked - self.period)))
            sampled.set()


def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` from any thread; a task whose loop is closed is gone already."""
    loop = task.get_loop()
    if task.done() or loop.is_closed():
        return
    with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
        loop.call_soon_threadsafe(task.cancel)
