"""One long-lived worker thread per sync check, reused from run to run.

A sync check is called in a thread so that it never blocks the event loop.
Calling it in the *same* thread every time keeps what drivers store per
thread: Django's ``django.db.connection``, SQLAlchemy's ``scoped_session``,
any ``threading.local`` client.  A new thread per run would open a new
database connection per probe and leave the old ones behind.

The thread is a daemon (a stuck check never keeps the process from
exiting), starts on the first job, and ends when :meth:`KeptThread.close`
is called or the object is garbage collected.  A forked child has no copy
of it: :meth:`KeptThread.forget` drops it, and the child starts its own.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["KeptThread"]

Job = Callable[[], None]


def _serve(jobs: queue.SimpleQueue[Job | None]) -> None:
    # The thread references its queue only, never the KeptThread, so that
    # collecting the KeptThread (its finalizer posts None) ends the thread.
    while True:
        job = jobs.get()
        if job is None:
            return
        # Jobs report their own outcome; whatever escapes one must not end the thread.
        with contextlib.suppress(BaseException):
            job()
        del job  # drop the job (and what it holds) before blocking again


class KeptThread:
    """A daemon thread that runs the jobs handed to it, one at a time, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def alive(self) -> bool:
        """True while the thread runs (it may be busy with a job)."""
        return self._thread is not None and self._thread.is_alive()

    def submit(self, job: Job) -> None:
        """Run ``job`` in the thread, starting the thread first if needed.

        Called from one thread at a time (the owner serializes its runs).
        ``job`` must catch what it raises: an exception escaping it is dropped.
        """
        if self._thread is None:
            thread = threading.Thread(
                target=_serve, args=(self._jobs,), name=self.name, daemon=True
            )
            thread.start()
            self._thread = thread
            self._finalizer = weakref.finalize(self, self._jobs.put, None)
        self._jobs.put(job)

    def close(self) -> None:
        """End the thread once the jobs already handed to it are done (it is not waited for)."""
        if self._finalizer is not None:
            self._finalizer()  # posts None, once
        self._thread = None
        self._finalizer = None
        self._jobs = queue.SimpleQueue()

    def forget(self) -> None:
        """In a forked child: the thread does not exist here; the next job starts a new one."""
        if self._finalizer is not None:
            self._finalizer.detach()
        self._thread = None
        self._finalizer = None
        self._jobs = queue.SimpleQueue()
