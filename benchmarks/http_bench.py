"""HTTP benchmark: healthprobe's probe endpoints against a raw ASGI floor, through real uvicorn.

Run:  .venv/bin/python benchmarks/http_bench.py [--rounds 8] [--duration 3]   (about 2.5 min)

One uvicorn process per application (same settings: one worker,
``--no-access-log``, the default loop and HTTP implementation), all started
up front on free loopback ports; wrk (Debian's ``wrk``) drives each target in
turn, and the rounds are interleaved (floor, fastapi, ..., floor, fastapi, ...)
so that a slow moment of the machine hits every target alike.  Ratios are
computed within each round, then the median is taken.

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
APPS = ("floor", "fastapi", "middleware", "fastapi_probes")
FLOOR = "raw ASGI fixed JSON (floor)"
BARE = "bare FastAPI route"
# (label, app, path, the label it is compared with, target ratio)
TARGETS = [
    (FLOOR, "floor", "/", FLOOR, None),
    (BARE, "fastapi", "/json", FLOOR, None),
    ("middleware /livez", "middleware", "/livez", FLOOR, 0.8),
    ("middleware /readyz (10 polled)", "middleware", "/readyz", FLOOR, 0.7),
    ("FastAPI route /livez", "fastapi_probes", "/livez", BARE, 0.9),
    ("FastAPI route /readyz (10 polled)", "fastapi_probes", "/readyz", BARE, 0.9),
]


class Run(NamedTuple):
    rps: float
    cpu_us: float  # the server's CPU time per request, microseconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(app: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_APP": app, "PYTHONPATH": str(ROOT / "benchmarks")}
    return subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "_http_bench_apps:app",
            "--host", "127.0.0.1", "--port", str(port),
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


def report(runs: dict[str, list[Run]], rounds: int, duration: int, connections: int) -> None:
    print(
        f"\n{rounds} interleaved rounds x {duration} s, wrk -t1 -c{connections}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    print(
        "| target | req/s (median) | compared with | req/s ratio, median (min-max) "
        "| server CPU / request | CPU ratio | target | met (req/s; CPU) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---|")
    for label, _, _, base, goal in TARGETS:
        mine, theirs = runs[label], runs[base]
        ratios = [a.rps / b.rps for a, b in zip(mine, theirs, strict=True)]
        ratio = statistics.median(ratios)
        cpu = statistics.median(r.cpu_us for r in mine)
        cpu_ratio = statistics.median(r.cpu_us for r in theirs) / cpu
        goal_text = met = ""
        if goal is not None:
            goal_text = f">= {goal}"
            met = f"{'yes' if ratio >= goal else 'no'}; {'yes' if cpu_ratio >= goal else 'no'}"
        print(
            f"| {label} | {statistics.median(r.rps for r in mine):,.0f} | {base} | "
            f"{ratio:.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | {cpu:.0f} us | "
            f"{cpu_ratio:.2f} | {goal_text} | {met} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    ports = {app: free_port() for app in APPS}
    servers = {app: start(app, port) for app, port in ports.items()}
    try:
        for _, app, path, *_ in TARGETS:
            wait_ready(ports[app], path)
            wrk(ports[app], path, 1, args.connections, servers[app].pid)  # warm-up
        runs: dict[str, list[Run]] = {t[0]: [] for t in TARGETS}
        for round_ in range(args.rounds):
            for label, app, path, *_ in TARGETS:
                run = wrk(ports[app], path, args.duration, args.connections, servers[app].pid)
                runs[label].append(run)
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for proc in servers.values():
            proc.send_signal(signal.SIGTERM)
        for proc in servers.values():
            proc.wait(timeout=15)
    report(runs, args.rounds, args.duration, args.connections)


if __name__ == "__main__":
    main()
