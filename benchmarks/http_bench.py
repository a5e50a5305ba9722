"""HTTP benchmark: healthprobe's probe endpoints against two raw ASGI floors, through real uvicorn.

Run:  .venv/bin/python benchmarks/http_bench.py [--rounds 3] [--duration 3] [--stacks both]
      [--compare /tmp/before/src]   (about 4 minutes with both stacks, 6 with --compare)

``--compare`` serves healthprobe's targets a second time from another source
tree (the code before a change), in the same interleaved rounds, so that a
before/after comparison sees the same moments of a shared machine.

Two server stacks, each application served by both: uvicorn with httptools
and uvloop (``uvicorn[standard]``, what production installs: the headline)
and uvicorn with h11 and the asyncio loop (the pure-Python fallback).  One
uvicorn process per application and stack (one worker, ``--no-access-log``),
all started up front on free loopback ports; wrk (Debian's ``wrk``) drives
each target in turn, and the rounds are interleaved (floor, same answer,
..., floor, same answer, ...) so that a slow moment of the machine hits every
target alike.  Ratios are computed within each round, then the median is
taken; every target is compared with both floors:

* the fixed-JSON floor: a raw ASGI callable returning 20 bytes of JSON;
* the same-answer floor: a raw ASGI callable sending healthprobe's own
  ``/livez`` body and headers, the limit for any answer of ours.

Throughput ratios are only as good as the machine is quiet: other processes
competing for the two CPUs shift them by tens of percent.  So the script also
reads each server's own CPU time (``/proc/<pid>/stat``) around every run and
reports CPU microseconds per request; the ratio of those (base / target) is
the capacity ratio, and it moves much less with outside load.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "raw ASGI fixed JSON (floor)"
SAME = "raw ASGI, healthprobe's /livez bytes (same-answer floor)"
# (label, app, path, target ratio against the same-answer floor)
TARGETS: list[tuple[str, str, str, float | None]] = [
    (FLOOR, "floor", "/", None),
    (SAME, "same_answer", "/", None),
    ("bare Starlette route", "starlette", "/json", None),
    ("bare FastAPI route", "fastapi", "/json", None),
    ("middleware /livez", "middleware", "/livez", 0.9),
    ("middleware /readyz (10 polled)", "middleware", "/readyz", 0.9),
    ("middleware /readyz (3 on request)", "middleware_on_request", "/readyz", None),
    ("FastAPI install() /livez", "fastapi_probes", "/livez", 0.8),
    ("FastAPI install() /readyz (10 polled)", "fastapi_probes", "/readyz", 0.8),
]
#: stack -> uvicorn's options for it.
STACKS = {
    "httptools+uvloop": ["--http", "httptools", "--loop", "uvloop"],
    "h11+asyncio": ["--http", "h11", "--loop", "asyncio"],
}


class Run(NamedTuple):
    rps: float
    cpu_us: float  # the server's CPU time per request, microseconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(app: str, stack: str, port: int, compare: Path | None) -> subprocess.Popen[bytes]:
    """Serve ``app`` (``name@before``: from the ``compare`` tree) on ``stack``."""
    name, _, before = app.partition("@")
    tree = str(compare) if before and compare else str(ROOT / "src")
    path = os.pathsep.join([str(ROOT / "benchmarks"), tree])
    env = {**os.environ, "BENCH_APP": name, "PYTHONPATH": path}
    return subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "_http_bench_apps:app",
            "--host", "127.0.0.1", "--port", str(port), *STACKS[stack],
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ],
        env=env,
        cwd=ROOT,
    )  # fmt: skip


def wait_ready(port: int, path: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on {port} never answered 200 on {path}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, path: str, duration: int, connections: int, pid: int) -> Run:
    before = cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    used = cpu_seconds(pid) - before
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx answers from {path}:\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if rps is None or count is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    return Run(float(rps.group(1)), used / int(count.group(1)) * 1e6)


def _ratios(mine: list[Run], base: list[Run]) -> tuple[float, float, float, float]:
    """(median, min, max) of the per-round req/s ratios, and the CPU-per-request ratio."""
    ratios = [a.rps / b.rps for a, b in zip(mine, base, strict=True)]
    cpu_ratio = statistics.median(r.cpu_us for r in base) / statistics.median(
        r.cpu_us for r in mine
    )
    return statistics.median(ratios), min(ratios), max(ratios), cpu_ratio


def report(
    runs: dict[tuple[str, str], list[Run]],
    targets: list[tuple[str, str, str, float | None]],
    stacks: list[str],
    *,
    rounds: int,
    duration: int,
    connections: int,
) -> None:
    print(
        f"\n{rounds} interleaved rounds x {duration} s, wrk -t1 -c{connections}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end"
    )
    for stack in stacks:
        print(f"\n### uvicorn, {stack}\n")
        print(
            "| target | req/s (median) | server CPU / request | x fixed-JSON floor, "
            "req/s median (min-max); by CPU | x same-answer floor, req/s median (min-max); "
            "by CPU | target (x same answer) | met (req/s; CPU) |"
        )
        print("|---|---:|---:|---:|---:|---:|---|")
        for label, _, _, goal in targets:
            mine = runs[stack, label]
            cells = []
            for base in (FLOOR, SAME):
                ratio, low, high, cpu_ratio = _ratios(mine, runs[stack, base])
                cells.append(f"{ratio:.2f} ({low:.2f}-{high:.2f}); {cpu_ratio:.2f}")
            ratio, _, _, cpu_ratio = _ratios(mine, runs[stack, SAME])
            goal_text = met = ""
            if goal is not None:
                goal_text = f">= {goal}"
                met = f"{'yes' if ratio >= goal else 'no'}; {'yes' if cpu_ratio >= goal else 'no'}"
            print(
                f"| {label} | {statistics.median(r.rps for r in mine):,.0f} | "
                f"{statistics.median(r.cpu_us for r in mine):.0f} us | {cells[0]} | {cells[1]} | "
                f"{goal_text} | {met} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--stacks", choices=["both", *STACKS], default="both")
    parser.add_argument("--only", default="", help="comma-separated app names (default: all)")
    parser.add_argument(
        "--compare",
        type=Path,
        help="another tree's src/ (the code before a change): its healthprobe targets "
        "run in the same rounds, against this tree's floors",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    stacks = list(STACKS) if args.stacks == "both" else [args.stacks]
    wanted = set(args.only.split(",")) | {"floor", "same_answer"} if args.only else None
    targets = [t for t in TARGETS if wanted is None or t[1] in wanted]
    if args.compare:
        targets += [
            (f"{label} [before]", f"{app}@before", path, goal)
            for label, app, path, goal in list(targets)
            if app not in ("floor", "same_answer", "starlette", "fastapi")
        ]
    apps = sorted({t[1] for t in targets})
    ports = {(app, stack): free_port() for app in apps for stack in stacks}
    servers = {key: start(key[0], key[1], port, args.compare) for key, port in ports.items()}
    try:
        for stack in stacks:
            for _, app, path, _ in targets:
                wait_ready(ports[app, stack], path)
                wrk(ports[app, stack], path, 1, args.connections, servers[app, stack].pid)
        runs: dict[tuple[str, str], list[Run]] = {
            (stack, t[0]): [] for t in targets for stack in stacks
        }
        for round_ in range(args.rounds):
            for stack in stacks:
                for label, app, path, _ in targets:
                    key = (app, stack)
                    run = wrk(ports[key], path, args.duration, args.connections, servers[key].pid)
                    runs[stack, label].append(run)
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for proc in servers.values():
            proc.send_signal(signal.SIGTERM)
        for proc in servers.values():
            proc.wait(timeout=15)
    report(
        runs,
        targets,
        stacks,
        rounds=args.rounds,
        duration=args.duration,
        connections=args.connections,
    )


if __name__ == "__main__":
    main()
