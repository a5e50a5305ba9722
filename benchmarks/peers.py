"""Peer benchmark: healthprobe against fastapi-health, fastapi-healthchecks and py-healthcheck.

Run:  .venv/bin/python benchmarks/peers.py            (about 5 minutes on 2 CPUs)
      .venv/bin/python benchmarks/peers.py --no-write  (print the tables only)

The peers are installed only in ``benchmarks/.venv-peers``, which this script
creates on its first run (git-ignored); they are never dependencies of the
package.  Every application, healthprobe's included, runs from that venv
(``PYTHONPATH`` points at ``src/``), under the same uvicorn (one worker,
``--no-access-log``, the default asyncio loop and h11), driven by Debian's
``wrk``.  Three workloads:

1. throughput (``wrk -t1 -c32``, interleaved rounds, ratios within a round,
   then the median): the raw ASGI floor, a bare FastAPI route, healthprobe
   ``/livez`` and ``/readyz`` with 10 trivial checks (background-polled, and
   run on each request), and each peer with the same 10 checks;
2. concurrency: 3 checks of 50 ms each, run on each request, one client
   (``wrk -c1 --latency``): the p50 latency;
3. dependency amplification: PostgreSQL ``SELECT 1`` and Redis ``PING`` under
   64 concurrent clients (``wrk -c64``), counted on the servers' side:
   ``pg_stat_database`` (``xact_commit`` and ``sessions``) for a database of
   its own, ``healthprobe_bench``, on the machine's PostgreSQL (127.0.0.1:5432),
   and ``INFO commandstats``/``INFO stats`` of a private redis-server this script
   starts on a free port (the machine's Redis is shared with other test suites,
   whose PINGs would be counted too).

With ``--write`` (the default) the tables replace the part of
``docs/benchmarks.md`` between ``<!-- peers:table:start -->`` and
``<!-- peers:table:end -->``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

# A sibling module: Python puts this script's directory first on sys.path.
from _peer_deps import Target, amplification

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "benchmarks" / ".venv-peers"
PY = VENV / "bin" / "python"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- peers:table:start -->", "<!-- peers:table:end -->"
# Pinned to what the project's own venv runs, so the server side is identical.
PEER_PACKAGES = [
    "fastapi==0.165.0", "starlette==1.10.0", "uvicorn==0.54.0", "h11==0.16.0",
    "anyio==4.16.0", "pydantic==2.14.4", "asyncpg==0.32.0", "redis==8.1.0",
    "fastapi-health==0.4.0", "fastapi-healthchecks[postgres,redis]==1.1.0",
    "py-healthcheck==1.10.1",
]  # fmt: skip
FLOOR = "raw ASGI fixed JSON (floor)"


THROUGHPUT = [
    Target(FLOOR, "floor", "none", "/"),
    Target("bare FastAPI route", "fastapi", "none", "/json"),
    Target("healthprobe middleware /livez", "hp_middleware", "trivial10", "/livez"),
    Target("healthprobe middleware /readyz, 10 polled", "hp_middleware", "trivial10", "/probe"),
    Target(
        "healthprobe middleware /readyz, 10 on request",
        "hp_middleware",
        "trivial10_request",
        "/probe",
    ),
    Target("healthprobe FastAPI route /readyz, 10 polled", "hp_fastapi", "trivial10", "/probe"),
    Target("fastapi-health 0.4.0, 10 checks", "fastapi_health", "trivial10", "/probe"),
    Target("fastapi-healthchecks 1.1.0, 10 checks", "fastapi_healthchecks", "trivial10", "/probe"),
    Target(
        "py-healthcheck 1.10.1, 10 checks (27 s cache)", "py_healthcheck", "trivial10", "/probe"
    ),
]
CONCURRENCY = [
    Target("healthprobe middleware /readyz", "hp_middleware", "sleep3", "/probe"),
    Target("healthprobe FastAPI route /readyz", "hp_fastapi", "sleep3", "/probe"),
    Target("fastapi-health 0.4.0", "fastapi_health", "sleep3", "/probe"),
    Target("fastapi-healthchecks 1.1.0", "fastapi_healthchecks", "sleep3", "/probe"),
    Target("py-healthcheck 1.10.1 (cache off)", "py_healthcheck", "sleep3", "/probe"),
]


# --- environment -------------------------------------------------------------------


def ensure_venv() -> None:
    """Create the peers' venv once (``.ok`` marks a finished install)."""
    marker = VENV / ".ok"
    wanted = "\n".join(PEER_PACKAGES)
    if marker.exists() and marker.read_text() == wanted:
        return
    print(f"creating {VENV.relative_to(ROOT)} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEER_PACKAGES],
        check=True,
    )
    marker.write_text(wanted)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(port: int, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server on {port} never answered 200 on {path}")


@contextlib.contextmanager
def serve(target: Target, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """One uvicorn process for ``target``; yields (port, pid); stopped by its PID."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(PY), "-m", "uvicorn", "_peer_apps:app",
            "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ],
        cwd=ROOT,
        env={
            **os.environ, **env, **dict(target.extra_env),
            "PEER_APP": target.app, "PEER_CHECKS": target.checks,
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'benchmarks'}",
        },
    )  # fmt: skip
    try:
        wait_until(port, target.path)
        yield port, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# --- load ---------------------------------------------------------------------------


class Run(NamedTuple):
    rps: float
    requests: int
    p50_ms: float
    cpu_us: float


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, path: str, duration: float, connections: int, pid: int) -> Run:
    before = cpu_seconds(pid)
    out = subprocess.run(
        [
            "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True, text=True, check=True, timeout=duration + 60,
    ).stdout  # fmt: skip
    used = cpu_seconds(pid) - before
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"errors from {path}:\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    if rps is None or count is None or p50 is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    requests = int(count.group(1))
    return Run(float(rps.group(1)), requests, _ms(*p50.groups()), used / requests * 1e6)


# --- workloads ----------------------------------------------------------------------


def throughput(rounds: int, duration: float) -> list[str]:
    runs: dict[str, list[Run]] = {t.label: [] for t in THROUGHPUT}
    with contextlib.ExitStack() as stack:
        servers = {t.label: stack.enter_context(serve(t, {})) for t in THROUGHPUT}
        for t in THROUGHPUT:
            port, pid = servers[t.label]
            wrk(port, t.path, 1, 32, pid)  # warm-up
        for round_ in range(rounds):
            for t in THROUGHPUT:
                port, pid = servers[t.label]
                runs[t.label].append(wrk(port, t.path, duration, 32, pid))
            print(f"throughput round {round_ + 1}/{rounds}", file=sys.stderr)
    floor = runs[FLOOR]
    lines = [
        f"Throughput: {rounds} interleaved rounds x {duration:g} s, `wrk -t1 -c32`, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| target | req/s (median) | x floor, median (min-max) | server CPU / request "
        "| x floor by CPU |",
        "|---|---:|---:|---:|---:|",
    ]
    floor_cpu = statistics.median(r.cpu_us for r in floor)
    for t in THROUGHPUT:
        mine = runs[t.label]
        ratios = [a.rps / b.rps for a, b in zip(mine, floor, strict=True)]
        cpu = statistics.median(r.cpu_us for r in mine)
        lines.append(
            f"| {t.label} | {statistics.median(r.rps for r in mine):,.0f} | "
            f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | "
            f"{cpu:.0f} µs | {floor_cpu / cpu:.2f} |"
        )
    return lines


def concurrency(rounds: int, duration: float) -> list[str]:
    runs: dict[str, list[Run]] = {t.label: [] for t in CONCURRENCY}
    with contextlib.ExitStack() as stack:
        servers = {t.label: stack.enter_context(serve(t, {})) for t in CONCURRENCY}
        for round_ in range(rounds):
            for t in CONCURRENCY:
                port, pid = servers[t.label]
                runs[t.label].append(wrk(port, t.path, duration, 1, pid))
            print(f"concurrency round {round_ + 1}/{rounds}", file=sys.stderr)
    lines = [
        f"3 checks of 50 ms each, run on every request: one client (`wrk -t1 -c1 --latency`), "
        f"{rounds} interleaved rounds x {duration:g} s. Target for healthprobe: p50 < 60 ms.",
        "",
        "| target | p50 latency (median of rounds) | req/s |",
        "|---|---:|---:|",
    ]
    for t in CONCURRENCY:
        mine = runs[t.label]
        lines.append(
            f"| {t.label} | {statistics.median(r.p50_ms for r in mine):.1f} ms | "
            f"{statistics.median(r.rps for r in mine):.1f} |"
        )
    return lines


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    if START in doc and END in doc:
        head, rest = doc.split(START, 1)
        doc = head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1]
    else:
        doc = doc.rstrip("\n") + f"\n\n{START}\n{text}\n{END}\n"
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the doc")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    began = time.monotonic()
    ensure_venv()
    sections = [
        throughput(args.rounds, args.duration),
        concurrency(max(2, args.rounds // 2), 4.0),
        amplification(5.0, serve, wrk),
    ]
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    header = (
        f"Last run: {stamp}, Python {sys.version.split()[0]}, "
        f"{time.monotonic() - began:.0f} s end to end."
    )
    text = "\n\n".join([header, *("\n".join(s) for s in sections)])
    print(text)
    if not args.no_write:
        write_doc(text)


if __name__ == "__main__":
    main()
