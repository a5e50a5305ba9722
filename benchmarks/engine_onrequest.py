"""On-request checks in process: ``Health.arun("ready")`` against the bare asyncio floor.

Targets (issue 16.2): ``arun("ready")`` with N = 1, 3, 10 trivial async checks
costs at most 1.2x a bare ``asyncio.gather`` of ``asyncio.wait_for``s (the
least code that still bounds each check by a timeout), and a trivial sync
check at most 1.2x a bare ``asyncio.to_thread`` (whose executor keeps its
thread).  Both event loops are measured: asyncio's own and uvloop.

Rounds of the engine and of the floor are interleaved, so a noisy neighbour
on a shared machine hits both; the figures are the medians of the rounds,
per call, in microseconds, and the ratios are of the medians and of the
best rounds (the least disturbed by neighbours).

    PYTHONPATH=src python benchmarks/engine_onrequest.py [--rounds 9] [--calls 2000]
    PYTHONPATH=src python benchmarks/engine_onrequest.py --profile 3   # cProfile, N=3
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import uvloop

from healthprobe import Health, Status

TIMEOUT = 5.0
Case = Callable[[], Awaitable[object]]
Rows = list[tuple[str, float, float, float]]  # label, engine µs, floor µs, best/best


async def trivial() -> bool:
    return True


def trivial_sync() -> bool:
    return True


def async_cases(n: int) -> tuple[Case, Case]:
    health = Health()
    checks = []
    for index in range(n):

        async def check() -> bool:
            return True

        health.add(check, name=f"c{index}", timeout=TIMEOUT)
        checks.append(check)

    async def engine() -> object:
        report = await health.arun("ready")
        assert report.status is Status.PASS
        return report

    async def floor() -> object:
        return await asyncio.gather(*(asyncio.wait_for(c(), TIMEOUT) for c in checks))

    return engine, floor


def sync_cases() -> tuple[Case, Case]:
    health = Health()
    health.add(trivial_sync, name="sync", timeout=TIMEOUT)

    async def engine() -> object:
        report = await health.arun("ready")
        assert report.status is Status.PASS
        return report

    async def floor() -> object:
        return await asyncio.to_thread(trivial_sync)

    return engine, floor


async def per_call(case: Case, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await case()
    return (time.perf_counter() - started) / calls * 1e6


async def measure(rounds: int, calls: int) -> Rows:
    rows = []
    cases = [(f"{n} async", *async_cases(n)) for n in (1, 3, 10)]
    cases.append(("1 sync", *sync_cases()))
    for label, engine, floor in cases:
        for _ in range(calls // 10):  # warm up: threads started, memos filled
            await engine()
            await floor()
        engine_us: list[float] = []
        floor_us: list[float] = []
        for _ in range(rounds):
            engine_us.append(await per_call(engine, calls))
            floor_us.append(await per_call(floor, calls))
        rows.append(
            (
                label,
                statistics.median(engine_us),
                statistics.median(floor_us),
                min(engine_us) / min(floor_us),
            )
        )
    return rows


def run_loop(kind: str, coro: Coroutine[Any, Any, Rows]) -> Rows:
    if kind == "uvloop":
        return uvloop.run(coro)
    return asyncio.run(coro)


def profile(n: int, calls: int) -> None:
    engine, _ = async_cases(n) if n else sync_cases()

    async def many() -> None:
        for _ in range(calls):
            await engine()

    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(many())
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument(
        "--profile", type=int, default=None, help="profile N async checks (0: sync)"
    )
    args = parser.parse_args()
    if args.profile is not None:
        profile(args.profile, args.calls * 5)
        return
    print(f"python {sys.version.split()[0]}; median of {args.rounds} rounds of {args.calls} calls")
    print("| loop | checks | arun µs | floor µs | ratio (medians) | ratio (best rounds) |")
    print("|---|---|---:|---:|---:|---:|")
    for kind in args.loops.split(","):
        for label, engine_us, floor_us, best in run_loop(kind, measure(args.rounds, args.calls)):
            floor_name = "to_thread" if label.endswith(" sync") else "gather(wait_for)"
            print(
                f"| {kind} | {label} | {engine_us:.1f} | {floor_us:.1f} ({floor_name}) "
                f"| {engine_us / floor_us:.2f} | {best:.2f} |"
            )


if __name__ == "__main__":
    main()
