"""A bounded memory of each check's recent readings, fed by the engine's listener hook.

The status page draws its sparklines and uptime ratios from it, and the
metrics exposition reads its lifetime counters (failures, last success).
Memory is flat however long the service runs: each check keeps at most
``size`` compact entries in a ring buffer (``collections.deque(maxlen=...)``)
plus a handful of counters, and the set of checks is fixed at registration.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import threading
import weakref
from typing import TYPE_CHECKING, NamedTuple

from healthprobe.engine.status import Status

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.engine.result import CheckResult
    from healthprobe.engine.runtime import Reading
    from healthprobe.engine.shared_record import HostRecord

__all__ = ["DEFAULT_HISTORY_SIZE", "CheckHistory", "Entry", "History"]

DEFAULT_HISTORY_SIZE = 120

_shared: weakref.WeakKeyDictionary[Health, History] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


class Entry(NamedTuple):
    """One reading as remembered: when, what status, and how long it took (seconds)."""

    time: dt.datetime
    status: Status
    latency: float


@dataclasses.dataclass(frozen=True)
class CheckHistory:
    """A consistent snapshot of one check's memory.

    ``entries`` are the last readings, oldest first.  ``runs`` and
    ``failures`` count every reading since the history was attached (a
    reading counts as a failure when its reported status is ``fail``, after
    flap damping); ``last_success`` is the time of the last ``pass``;
    ``last_failure`` is the last failing result (already sanitized by the
    engine), kept even after it has left the ring buffer.
    """

    name: str
    entries: tuple[Entry, ...]
    runs: int
    failures: int
    last_success: dt.datetime | None
    last_failure: CheckResult | None

    @property
    def uptime_ratio(self) -> float | None:
        """The share of remembered readings that let traffic through (pass or warn).

        ``None`` when there is no reading yet.
        """
        if not self.entries:
            return None
        up = sum(1 for entry in self.entries if entry.status in (Status.PASS, Status.WARN))
        return up / len(self.entries)


class _Track:
    __slots__ = ("entries", "failures", "last_failure", "last_success", "runs")

    def __init__(self, size: int) -> None:
        self.entries: collections.deque[Entry] = collections.deque(maxlen=size)
        self.runs = 0
        self.failures = 0
        self.last_success: dt.datetime | None = None
        self.last_failure: CheckResult | None = None


class History:
    """Per-check ring buffers of readings; a result listener.

    Use :meth:`of` to get the one history shared by every consumer of a
    :class:`~healthprobe.Health` (metrics, status page), or create one and
    register it yourself with ``health.add_listener(history)``.  Thread-safe:
    readings may arrive from several event loops while a page is rendered in
    another thread.
    """

    def __init__(self, size: int = DEFAULT_HISTORY_SIZE) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"history size must be a positive integer, not {size!r}")
        self.size = size
        self._tracks: dict[str, _Track] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, health: Health) -> History:
        """The history shared by everything that observes ``health``, attached on first use."""
        with _shared_lock:
            history = _shared.get(health)
            if history is None:
                history = cls()
                health.add_listener(history)
                _shared[health] = history
            return history

    def __call__(self, reading: Reading) -> None:
        """Remember one new reading (the listener entry point; O(1), never blocks long).

        A reading adopted from the host's shared directory carries the
        check's host-wide memory: it replaces this process's, so every worker
        of the host shows the same history and counters.
        """
        if reading.host is not None:
            self._mirror(reading.host)
            return
        result = reading.current
        when = result.time or dt.datetime.now(dt.timezone.utc)
        with self._lock:
            track = self._tracks.get(reading.name)
            if track is None:
                track = self._tracks[reading.name] = _Track(self.size)
            track.entries.append(Entry(when, result.status, result.latency or 0.0))
            track.runs += 1
            if result.status is Status.FAIL:
                track.failures += 1
                track.last_failure = result
            elif result.status is Status.PASS:
                track.last_success = when

    def _mirror(self, host: HostRecord) -> None:
        track = _Track(self.size)
        track.entries.extend(Entry(*entry) for entry in host.entries)
        track.runs, track.failures = host.runs, host.failures
        track.last_success, track.last_failure = host.last_success, host.last_failure
        with self._lock:
            self._tracks[host.name] = track

    def get(self, name: str) -> CheckHistory:
        """A snapshot of the check ``name`` (empty when it has no reading yet)."""
        with self._lock:
            track = self._tracks.get(name)
            if track is None:
                return CheckHistory(name, (), 0, 0, None, None)
            return CheckHistory(
                name,
                tuple(track.entries),
                track.runs,
                track.failures,
                track.last_success,
                track.last_failure,
            )

    def names(self) -> tuple[str, ...]:
        """The checks that have at least one reading, in order of their first reading."""
        with self._lock:
            return tuple(self._tracks)
