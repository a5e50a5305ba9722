"""History memory stays flat however many readings arrive (tracemalloc).

Feeds 100,000 readings of 10 checks (a mix of pass, warn and fail results,
each a fresh CheckResult with its own output text and timestamp) into a
History with the default ring size, and prints the memory traced after
1,000, 10,000, 50,000 and 100,000 readings.  Exits non-zero when memory grew
by more than 5 % between 10,000 readings (every ring full) and the end.

    .venv/bin/python benchmarks/history_memory.py
"""

from __future__ import annotations

import datetime as dt
import sys
import tracemalloc

from healthprobe import CheckResult, Reading, Status
from healthprobe.observability import History

CHECKS = [f"check-{i}" for i in range(10)]
MARKS = (1_000, 10_000, 50_000, 100_000)
STATUSES = (Status.PASS,) * 7 + (Status.WARN, Status.FAIL, Status.PASS)


def main() -> int:
    history = History()  # default size: 120 readings per check
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    rows: list[tuple[int, int]] = []
    for i in range(1, MARKS[-1] + 1):
        status = STATUSES[i % len(STATUSES)]
        result = CheckResult(
            status,
            f"reading {i}: {status.value}",
            latency=0.001 + (i % 17) / 10_000,
            time=start + dt.timedelta(milliseconds=i),
        )
        name = CHECKS[i % len(CHECKS)]
        history(Reading(name, True, None, result))
        if i in MARKS:
            current, _ = tracemalloc.get_traced_memory()
            rows.append((i, current - base))
    tracemalloc.stop()
    print(f"History(size={history.size}), {len(CHECKS)} checks, Python {sys.version.split()[0]}")
    print("| readings | traced memory (KiB) |")
    print("|---:|---:|")
    for count, used in rows:
        print(f"| {count:,} | {used / 1024:,.1f} |")
    full = dict(rows)[10_000]
    end = rows[-1][1]
    growth = (end - full) / full
    print(f"growth from 10,000 to 100,000 readings: {growth * 100:+.2f} %")
    assert all(history.get(name).runs == MARKS[-1] // len(CHECKS) for name in CHECKS)
    return 0 if growth <= 0.05 else 1


if __name__ == "__main__":
    raise SystemExit(main())
