"""Assembling a probe's :class:`Report`, and handing the same one out again while nothing changed.

A selection of checks (probe, ``only``, ``exclude``) is answered from its
last report while two things hold: the shared :class:`~healthprobe.engine.runtime.Changes`
counter has the value it had before that report's readings were read (no
new reading, no polling started or ended, no check added), and no reading
in it has expired (a polled reading's max staleness, the end of a cache
TTL).  Checking that costs one clock read and a dictionary lookup, whatever
the number of checks.  When a report must be assembled anyway and every
entry turns out to be the same object as last time, the previous report is
handed out too, so renderers can cache on its identity.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import time
import types
from collections.abc import Iterable
from typing import NamedTuple

from .aggregate import aggregate
from .errors import UnknownCheckError, UnknownProbeError
from .report import CheckReport, Report
from .result import CheckResult
from .runtime import Changes, CheckRuntime, built
from .status import Status

__all__ = ["MEMO_LIMIT", "Selection", "ServedReports", "unique"]

MEMO_LIMIT = 256  # selections remembered (?exclude= values come from requests)

#: A selection of checks: (probe, only, exclude) with duplicates dropped.
Selection = tuple[str | None, str | None, tuple[str, ...]]


class _Served(NamedTuple):
    """The last report of one selection, and how long it may be handed out as it is."""

    entries: tuple[CheckReport, ...]
    report: Report
    changes: int  # the Changes value read before its readings were
    until: float  # monotonic time at which one of its readings expires or must run


class ServedReports:
    """The last report of each selection, and the rules for handing it out again."""

    def __init__(self, changes: Changes, unknown_passes: frozenset[str]) -> None:
        self._changes = changes
        self._unknown_passes = unknown_passes
        self._served: dict[Selection, _Served] = {}

    def __len__(self) -> int:
        return len(self._served)

    def reuse(self, selection: Selection) -> Report | None:
        """The last report of ``selection`` if nothing it depends on changed, else None."""
        served = self._served.get(selection)
        if (
            served is not None
            and served.changes == self._changes.value
            and time.monotonic() < served.until
        ):
            return served.report
        return None

    def assemble(
        self,
        probe: str | None,
        *,
        memo: Selection | None,
        selected: list[CheckRuntime],
        results: dict[str, CheckResult],
        started: float,
        excluded: tuple[str, ...],
        unmatched: tuple[str, ...],
        changes: int = 0,
        until: float = -math.inf,
    ) -> Report:
        """The report of ``results``; remembered under ``memo`` (None: not at all).

        ``changes`` is the counter's value read before the results were,
        ``until`` the moment the first of them expires (``-inf``: some ran,
        so the next call looks again).
        """
        entries = tuple([rt.entry(results[rt.name]) for rt in selected])
        served = self._served.get(memo) if memo is not None else None
        if (
            served is not None
            and len(served.entries) == len(entries)
            and all(map(operator.is_, served.entries, entries))
        ):
            report = served.report  # nothing rebuilt, nothing re-aggregated
        else:
            status = aggregate((entry.result.status, entry.critical) for entry in entries)
            verdict = status
            if status is Status.UNKNOWN:
                verdict = Status.PASS if probe in self._unknown_passes else Status.FAIL
            report = built(
                Report,
                probe=probe,
                status=status,
                verdict=verdict,
                checks=types.MappingProxyType({entry.name: entry for entry in entries}),
                time=dt.datetime.now(dt.timezone.utc),
                duration=time.monotonic() - started,
                excluded=excluded,
                unmatched_excludes=unmatched,
            )
        if memo is not None:
            if len(self._served) >= MEMO_LIMIT and memo not in self._served:
                self._served.clear()  # a crude bound; the probes in use refill it at once
            self._served[memo] = _Served(entries, report, changes, until)
        return report


def unique(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` once each, in order (a tuple: part of a selection)."""
    if isinstance(names, tuple) and len(names) < 2:
        return names
    return tuple(dict.fromkeys(names))


def members(
    runtimes: Iterable[CheckRuntime],
    probes: tuple[str, ...],
    memo: dict[str | None, list[CheckRuntime]],
    probe: str | None,
) -> list[CheckRuntime]:
    """The checks of ``probe`` (every check for None), memoized in ``memo``.

    Memoized because a probe is polled every few seconds by several
    consumers; registration clears the memo.  Raises UnknownProbeError.
    """
    found = memo.get(probe)
    if found is None:
        if probe is not None and probe not in probes:
            raise UnknownProbeError(probe)
        found = [rt for rt in runtimes if probe is None or probe in rt.spec.probes]
        memo[probe] = found
    return found


def select(
    of_probe: list[CheckRuntime], selection: Selection
) -> tuple[list[CheckRuntime], tuple[str, ...], tuple[str, ...]]:
    """(selected checks, excluded names, unmatched excludes) of ``selection``'s probe members.

    Raises UnknownCheckError when ``only`` names no check of the probe.
    """
    probe, only, skip = selection
    chosen = of_probe
    if only is not None:
        chosen = [rt for rt in of_probe if rt.name == only]
        if not chosen:
            raise UnknownCheckError(only, probe)
    if not skip:
        return chosen, (), ()
    names = {rt.name for rt in chosen}
    excluded = tuple(name for name in skip if name in names)
    unmatched = tuple(name for name in skip if name not in names)
    return [rt for rt in chosen if rt.name not in skip], excluded, unmatched
