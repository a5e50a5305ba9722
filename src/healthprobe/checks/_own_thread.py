"""One long-lived daemon thread per check, for drivers whose state is thread-local.

Django keeps its database connections and cache clients per thread: a check
whose calls land on a new thread each run would open a new connection each
run (and leave the old one to the garbage collector).  :class:`OwnThread`
runs every call of one check on the same thread, whichever thread calls it,
so that thread's connection is the kept one.  The engine already bounds each
run by the check's timeout and joins a run that is still stuck instead of
starting another; calls queued here behind a stuck call wait for it likewise.
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["OwnThread"]

T = TypeVar("T")

_Job = tuple[Callable[[], Any], "concurrent.futures.Future[Any]"] | None
#: Queued by :meth:`OwnThread.stop`: the thread ends when it reaches it.
_STOP: _Job = None


class OwnThread:
    """Runs callables one at a time on a daemon thread started on first use.

    Daemon: a call stuck on a silent server must never keep the process from
    exiting.  A forked child starts a thread of its own (the parent's is not
    copied by ``fork()``).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job] | None = None
        self._pid = 0
        self._ident: int | None = None

    def call(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the thread and return its result (or raise its error)."""
        return self.submit(function).result()

    def submit(self, function: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Queue ``function`` on the thread; its future is returned at once."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue().put((function, future))
        return future

    def stop(self) -> None:
        """Let the thread end once the calls queued before this one are done.

        A later :meth:`call` starts a new thread.  Never waits: a call stuck
        on a silent server keeps its (daemon) thread until it returns.
        """
        with self._lock:
            jobs, self._jobs = self._jobs, None
        if jobs is not None:
            jobs.put(_STOP)

    @property
    def ident(self) -> int | None:
        """The thread's id once started (for tests and diagnostics)."""
        return self._ident if self._jobs is not None else None

    def _queue(self) -> queue.SimpleQueue[_Job]:
        with self._lock:
            if self._jobs is None or self._pid != os.getpid():
                jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
                started = threading.Event()
                thread = threading.Thread(
                    target=self._serve, args=(jobs, started), name=self._name, daemon=True
                )
                thread.start()
                started.wait()
                self._jobs, self._pid = jobs, os.getpid()
            return self._jobs

    def _serve(self, jobs: queue.SimpleQueue[_Job], started: threading.Event) -> None:
        self._ident = threading.get_ident()
        started.set()
        while True:
            job = jobs.get()
            if job is None:
                return
            function, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = function()
            except BaseException as exc:  # handed to the caller, who reports it
                future.set_exception(exc)
            else:
                future.set_result(result)
