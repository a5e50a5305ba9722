"""The two seams through which the rest of healthprobe watches and wraps check runs.

Listeners see every new reading (history, transitions, metrics, webhooks,
spans, the shared directory); run contexts wrap every run (OpenTelemetry's
instrumentation suppression).  :class:`Hooks` is a base class of
:class:`~healthprobe.Health`, which owns the two lists; each check's
runtime holds the same lists, so a hook added later applies to every check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runtime import Reading, RunContext

__all__ = ["Hooks"]


class Hooks:
    """Listeners of readings and contexts of runs (mixed into ``Health``)."""

    _listeners: list[Callable[[Reading], None]]
    _run_contexts: list[RunContext]

    def add_listener(self, listener: Callable[[Reading], None]) -> None:
        """Call ``listener(reading)`` after every new reading of any check.

        ``reading`` is a :class:`Reading` (name, critical, previous result or
        None, current result), both results already sanitized and damped.
        The listener runs synchronously in the event loop that produced the
        reading, so it must be quick and must not block: hand slow work (a
        webhook) to a queue.  An exception it raises is logged and ignored.
        Served cached or polled readings are not new readings.
        """
        self._listeners.append(listener)

    def add_run_context(self, factory: RunContext) -> None:
        """Run every check inside ``with factory():`` from now on.

        The context is entered in each run's own task, so the check (and the
        worker thread of a sync check, which copies that task's context)
        sees the context variables it sets: OpenTelemetry's instrumentation
        suppression, a tracing baggage, a database router hint.  A factory
        that raises makes the run a failure.
        """
        self._run_contexts.append(factory)

    def remove_listener(self, listener: Callable[[Reading], None]) -> None:
        """Stop calling ``listener``; a listener that was never added is ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)
