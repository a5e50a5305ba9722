"""One poller per host: the worker processes of a service share their polled readings.

With a shared directory (``Health(shared_dir=...)`` or the environment
variable :data:`ENV_VAR`), the workers of one service on one host elect a
leader with an OS file lock (``fcntl.flock`` on ``leader.lock`` in the
directory).  The lock belongs to the leader's open file: when the leader
dies, however it dies (``kill -9`` included), the kernel releases it and the
next worker to try takes it.

* The leader polls the shared checks as a lone process would, and after each
  reading publishes it (sanitized and damped already) with the check's
  host-wide memory, one file per check, replaced atomically
  (:mod:`.shared_record`).
* Every other worker polls nothing: it looks at the files every
  :meth:`SharedReadings.period` seconds, and adopts each new reading as its
  own latest (:meth:`CheckRuntime.adopt`), aged on the host's monotonic
  clock, so a reading past ``max_staleness`` is ``unknown`` there as well.
  The listeners see adopted readings with ``Reading.host`` set: the history
  and the metrics take them (every worker draws the same picture), the
  status-change detector advances its state but does not dispatch (the
  leader logs and notifies once for the host).
* Each worker also tries the lock every period, so a dead leader is
  replaced within a period; the new leader polls when the next reading was
  due (at once if it is overdue), so the next reading comes within
  ``interval + timeout`` of the last one, and the host keeps its cadence.

Shared are the checks with an ``interval``, except those marked
process-local (their object has ``process_local = True``, like the
event-loop lag check, or their name is in ``Health(process_local=...)``):
those, the on-request checks and the lifecycle stay per worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .errors import ConfigurationError
from .shared_record import HostRecord, boot_id, load, publish, record_path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, so no shared directory
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from .poller import Poller
    from .runtime import CheckRuntime, Reading

__all__ = ["ENV_VAR", "LOCK_FILE", "SharedReadings", "shared_directory"]

logger = logging.getLogger("healthprobe")

#: The environment variable naming the shared directory when ``shared_dir`` is not given.
ENV_VAR = "HEALTHPROBE_SHARED_DIR"
#: The lock file the workers compete for; it holds the leader's PID.
LOCK_FILE = "leader.lock"


def shared_directory(option: object) -> str | None:
    """The shared directory to use: ``option``, else :data:`ENV_VAR`, else None (no sharing).

    The directory is created (mode 0700) if missing.  Raises
    :class:`ConfigurationError` naming ``shared_dir`` when it is not a path,
    cannot be created or written, or the platform has no ``fcntl.flock``.
    """
    if option is None:
        option = os.environ.get(ENV_VAR) or None
        if option is None:
            return None
    if not isinstance(option, (str, os.PathLike)) or not os.fspath(option):
        raise ConfigurationError(f"shared_dir must be a directory path, not {option!r}")
    path = os.fsdecode(os.fspath(option))
    if fcntl is None:
        raise ConfigurationError("shared_dir needs POSIX file locks (fcntl), absent here")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"shared_dir {path!r} cannot be created: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigurationError(f"shared_dir {path!r} is not writable by this process")
    return path


class SharedReadings:
    """The shared directory of one ``Health``: the election, the publishing, the following.

    ``leading`` says whether this process polls for the host now.  All of it
    runs on the loop that polls (started by ``Health.astart()``); nothing
    happens before, so a master process that forks its workers (gunicorn's
    ``--preload``) never takes the lock.
    """

    def __init__(self, directory: str, process_local: Iterable[str] = ()) -> None:
        self.directory = directory
        self.process_local = frozenset(process_local)
        self._boot = boot_id()
        self._lock_fd: int | None = None
        self._leading = False
        self._task: asyncio.Task[None] | None = None
        self._poller: Poller | None = None
        self._shared: dict[str, CheckRuntime] = {}
        self._records: dict[str, HostRecord] = {}
        self._seen: dict[str, tuple[int, int, int]] = {}  # (inode, mtime, size) last read
        _BOARDS.add(self)

    @property
    def leading(self) -> bool:
        """True while this process holds the lock and polls the shared checks."""
        return self._leading

    def shares(self, runtime: CheckRuntime) -> bool:
        """Whether ``runtime`` is polled once per host (polled, and not process-local)."""
        spec = runtime.spec
        return (
            spec.interval is not None
            and spec.name not in self.process_local
            and getattr(spec.target, "process_local", False) is not True
        )

    def period(self) -> float:
        """Seconds between two looks at the lock and the files: a quarter of the shortest interval.

        Bounded to 0.05-0.5 s: often enough to replace a dead leader well
        within one interval, rarely enough to cost nothing.
        """
        intervals = [rt.spec.interval or 0.0 for rt in self._shared.values()]
        return min(0.5, max(0.05, min(intervals, default=2.0) / 4))

    # -- the hooks Health calls ---------------------------------------------------

    def start(self, poller: Poller, runtimes: list[CheckRuntime]) -> list[CheckRuntime]:
        """Take the shared checks among ``runtimes``; return those the poller runs as before.

        Must be called on the polling loop.  The shared checks are marked as
        polled at once (they serve their latest reading, ``unknown`` before
        the first, and never run on demand); the election starts as a task.
        """
        self._poller = poller
        local: list[CheckRuntime] = []
        for runtime in runtimes:
            if self.shares(runtime):
                self._shared[runtime.name] = runtime
                runtime.polling = True
            else:
                local.append(runtime)
        if self._shared and self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name="healthprobe-shared")
        return local

    def add(self, runtime: CheckRuntime) -> bool:
        """A check registered after start: True when it is shared (taken care of here)."""
        poller = self._poller
        if poller is None or not self.shares(runtime):
            return False
        self._shared[runtime.name] = runtime
        runtime.polling = True
        if self._leading:
            poller.add(runtime)
        elif self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return True

    async def stop(self) -> None:
        """Stop following and polling for the host; give the lock up (another worker takes it)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._release()
        for runtime in self._shared.values():
            runtime.polling = False
        self._shared.clear()
        self._poller = None

    def on_reading(self, reading: Reading) -> None:
        """The listener: while leading, publish each new reading of a shared check taken here."""
        if not self._leading or reading.host is not None or reading.name not in self._shared:
            return
        previous = self._records.get(reading.name) or HostRecord.empty(reading.name)
        record = previous.followed_by(reading.current, at=time.monotonic(), pid=os.getpid())
        self._records[reading.name] = record
        try:
            publish(self.directory, record, self._boot)
        except OSError as exc:  # a full disk must not break the probes of this process
            logger.warning(
                "healthprobe: publishing check %s to the shared directory failed: %s",
                reading.name,
                exc.strerror or type(exc).__name__,
            )

    # -- the election and the following -----------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                if not self._leading:
                    if self._try_lock():
                        self._lead()
                    else:
                        self._follow()
            except Exception as exc:  # never let one bad look end the sharing
                logger.error(
                    "healthprobe: the shared directory could not be read: %s", type(exc).__name__
                )
            await asyncio.sleep(self.period())

    def _try_lock(self) -> bool:
        assert fcntl is not None
        if self._lock_fd is None:
            path = os.path.join(self.directory, LOCK_FILE)
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)
        return True

    def _lead(self) -> None:
        # The latest published readings first: counters and history go on
        # from where the previous leader left them.
        self._follow()
        self._leading = True
        poller = self._poller
        assert poller is not None
        now = time.monotonic()
        for name, runtime in self._shared.items():
            record = self._records.get(name)
            if record is None:
                poller.add(runtime)  # the host's first poll: the usual (jittered) first delay
            else:
                # A takeover: the next reading when the dead leader's was due.
                due = record.at + (runtime.spec.interval or 0.0)
                poller.add(runtime, delay=max(0.0, due - now))
        logger.info("healthprobe: process %d polls the shared checks of this host", os.getpid())

    def _follow(self) -> None:
        now = time.monotonic()
        for name, runtime in self._shared.items():
            path = record_path(self.directory, name)
            try:
                info = os.stat(path)
            except FileNotFoundError:
                continue
            key = (info.st_ino, info.st_mtime_ns, info.st_size)
            if self._seen.get(name) == key:
                continue  # unchanged since the last look: nothing to read
            self._seen[name] = key
            record = load(path, name, self._boot)
            known = self._records.get(name)
            if record is None or record.at > now + 1.0:
                continue  # foreign, or not of this host's clock
            if known is not None and (record.seq, record.pid) == (known.seq, known.pid):
                continue
            self._records[name] = record
            runtime.adopt(record.result, record.at, record)

    def _release(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        self._leading = False
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the lock

    def _after_fork(self) -> None:
        # The child shares the parent's open lock file: closing our copy
        # leaves the parent's lock alone (flock(LOCK_UN) would release it).
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._leading = False
        self._task = None
        self._poller = None
        self._shared.clear()
        self._seen.clear()


_BOARDS: weakref.WeakSet[SharedReadings] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for board in list(_BOARDS):
        board._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def share(
    listeners: list[Callable[[Reading], None]],
    shared_dir: str | os.PathLike[str] | None,
    process_local: Iterable[str],
) -> SharedReadings | None:
    """The shared readings of a ``Health`` (its reading listener added), or None without a dir."""
    directory = shared_directory(shared_dir)
    if directory is None:
        return None  # process_local then changes nothing: every check is local
    local = (process_local,) if isinstance(process_local, str) else tuple(process_local)
    shared = SharedReadings(directory, local)
    listeners.append(shared.on_reading)
    return shared
