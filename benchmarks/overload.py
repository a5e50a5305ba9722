"""Probes against a saturated app: its own port versus the management port.

Run:  .venv/bin/python benchmarks/overload.py [--seconds 30] [--rounds 2]   (about 2.5 min)

One uvicorn worker (httptools + uvloop) serves ``_overload_app.py``; wrk
keeps 64 connections busy with requests that each block the event loop for
20 ms (``/block``: a sync call inside ``async def``) or burn 20 ms of CPU
holding the GIL (``/burn``).  Meanwhile two kubelet-style probers (a new
connection per probe, 1 s timeout, one probe every 0.5 s) ask ``/livez`` of
the app's port and of the management port (healthprobe's listener on its
own thread and loop), and a third asks ``/readyz`` of the management port.
The report is the share of probes answered (2xx) within 1 s on each, with
latency percentiles; the load modes alternate round by round.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
PERIOD = 0.5
TIMEOUT = 1.0


class Probe(NamedTuple):
    status: int | None  # None: no answer within the timeout (or the connection failed)
    seconds: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def probe_once(port: int, path: str) -> Probe:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", path, headers={"User-Agent": "kube-probe/1.30", "Accept": "*/*"})
        response = conn.getresponse()
        response.read()
        elapsed = time.monotonic() - started
        return Probe(response.status if elapsed <= TIMEOUT else None, elapsed)
    except OSError:
        return Probe(None, time.monotonic() - started)
    finally:
        conn.close()


def prober(port: int, path: str, seconds: float, out: list[Probe]) -> None:
    """One probe every PERIOD seconds for ``seconds``, as kubelet does (no overlap)."""
    deadline = time.monotonic() + seconds
    next_at = time.monotonic()
    while next_at < deadline:
        out.append(probe_once(port, path))
        next_at += PERIOD
        time.sleep(max(0.0, next_at - time.monotonic()))


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} never answered 200")


def run(mode: str, port: int, mgmt: int, seconds: float) -> tuple[dict[str, list[Probe]], str]:
    """Load ``/mode`` with wrk for ``seconds`` (plus a ramp), probing meanwhile."""
    load = subprocess.Popen(
        [
            "wrk", "-t1", "-c64", f"-d{int(seconds) + 3}s", "--timeout", "10s",
            f"http://127.0.0.1:{port}/{mode}?ms=20",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(2.0)  # the queue fills up
    probes: dict[str, list[Probe]] = {"app /livez": [], "mgmt /livez": [], "mgmt /readyz": []}
    threads = [
        threading.Thread(target=prober, args=(port, "/livez", seconds, probes["app /livez"])),
        threading.Thread(target=prober, args=(mgmt, "/livez", seconds, probes["mgmt /livez"])),
        threading.Thread(target=prober, args=(mgmt, "/readyz", seconds, probes["mgmt /readyz"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 10)
    out, _ = load.communicate(timeout=seconds + 30)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return probes, rps.group(1) if rps else "?"


def summarize(label: str, probes: list[Probe]) -> str:
    answered = [p for p in probes if p.status is not None and 200 <= p.status < 300]
    codes: dict[str, int] = {}
    for p in probes:
        key = "timeout" if p.status is None else str(p.status)
        codes[key] = codes.get(key, 0) + 1
    times = sorted(p.seconds for p in probes)
    p50 = statistics.median(times) * 1000
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))] * 1000
    share = len(answered) / len(probes) * 100
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(codes.items()))
    return (
        f"| {label} | {len(probes)} | **{share:.0f} %** | {shown} | {p50:.0f} ms | {p95:.0f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    port, mgmt = free_port(), free_port()
    path = os.pathsep.join(filter(None, [str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH")]))
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "_overload_app:app", "--host", "127.0.0.1",
            "--port", str(port), "--http", "httptools", "--loop", "uvloop",
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ],
        env={**os.environ, "PYTHONPATH": path, "HP_MGMT_PORT": str(mgmt)},
        cwd=ROOT,
    )  # fmt: skip
    results: list[tuple[str, int, str, dict[str, list[Probe]]]] = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz")
        wait_ready(f"http://127.0.0.1:{mgmt}/readyz")
        for round_ in range(args.rounds):
            for mode in ("block", "burn"):
                probes, rps = run(mode, port, mgmt, args.seconds)
                results.append((mode, round_ + 1, rps, probes))
                print(f"{mode} round {round_ + 1} done", file=sys.stderr)
                time.sleep(2.0)  # the queue drains
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"\n{args.seconds:g} s of probes every {PERIOD} s (timeout {TIMEOUT} s) per run, "
        f"wrk -t1 -c64, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end"
    )
    for mode, round_, rps, probes in results:
        what = "blocks the loop" if mode == "block" else "burns CPU holding the GIL"
        print(f"\n`/{mode}` (each request {what} for 20 ms), round {round_}: app {rps} req/s\n")
        print("| probe | probes | answered 2xx within 1 s | answers | p50 | p95 |")
        print("|---|---:|---:|---|---:|---:|")
        for label, found in probes.items():
            print(summarize(label, found))


if __name__ == "__main__":
    main()
