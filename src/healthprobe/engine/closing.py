"""Closing what a check opened: its ``aclose()``/``close()``, its kept thread, its stuck call.

Called by ``Health.astop()`` and, before a fork, by the blocking twins
(``blocking.py``), so that no connection outlives a stop or crosses a fork.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
from collections.abc import Callable
from typing import Any

from .runs import TaskCall, ThreadCall
from .runtime import CheckRuntime
from .sanitize import describe_exception

__all__ = ["abandon_calls", "closable", "close_check"]

logger = logging.getLogger("healthprobe")


def closable(runtime: CheckRuntime) -> bool:
    """True when the check is an object with ``aclose()`` or ``close()``."""
    return _closer(runtime) is not None


def abandon_calls(runtime: CheckRuntime) -> None:
    """Cancel a busy task call once more (stopping): it may honour this one."""
    call = runtime.last_call
    if isinstance(call, TaskCall) and not call.done:
        call.abandon()


async def close_check(runtime: CheckRuntime) -> None:
    """Close what the check opened: its ``aclose()`` or ``close()``, if it has one.

    Bounded by the check's timeout; a sync ``close()`` runs in the check's
    kept thread (thread-local resources are closed where they were opened),
    or in a thread of its own while that one is stuck.  A failure is
    logged, sanitized, and ignored.  The kept thread ends after it (a later
    run starts a new one).
    """
    runtime.opened = False
    closer = _closer(runtime)
    if closer is not None:
        try:
            await _close_with(runtime, closer)
        except Exception as exc:
            logger.warning(
                "healthprobe: closing check %s failed: %s",
                runtime.name,
                describe_exception(exc, runtime.spec.secrets),
            )
    if runtime.worker is not None and not _thread_busy(runtime):
        runtime.worker.close()


def _closer(runtime: CheckRuntime) -> Callable[[], Any] | None:
    target = runtime.spec.target
    closer = getattr(target, "aclose", None) or getattr(target, "close", None)
    if callable(closer) and not inspect.isfunction(target):
        return closer  # type: ignore[no-any-return]  # duck-typed: whatever the check declares
    return None


async def _close_with(runtime: CheckRuntime, closer: Callable[[], Any]) -> None:
    timeout = runtime.spec.timeout
    if inspect.iscoroutinefunction(closer):
        await asyncio.wait_for(closer(), timeout)
        return
    worker = runtime.worker
    if worker is not None and worker.alive and not _thread_busy(runtime):
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def job() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(closer())
            except BaseException as exc:  # reported by the awaiting side
                future.set_exception(exc)

        worker.submit(job)
        outcome = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
    else:
        outcome = await asyncio.wait_for(asyncio.to_thread(closer), timeout)
    if inspect.isawaitable(outcome):
        await asyncio.wait_for(outcome, timeout)


def _thread_busy(runtime: CheckRuntime) -> bool:
    call = runtime.last_call
    return isinstance(call, ThreadCall) and not call.done
