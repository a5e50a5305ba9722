"""Wall time of ``healthprobe probe`` against ``python -c pass`` and ``curl -f``.

``healthprobe probe`` runs in every container every few seconds (Docker
HEALTHCHECK, exec probes), so its start-up cost is the point.  The target is
within 15 ms of ``python -c pass`` on the same interpreter.

All commands hit the same real endpoint: ``/livez`` of a ``healthprobe serve``
sidecar on a loopback port.  With hyperfine (Debian package ``hyperfine``)
the commands are measured side by side; without it, an interleaved loop of
``subprocess.run`` does the same (each round runs every command once, so
drift in machine load hits all of them alike).

The probe runs this checkout's ``src`` (bytecode compiled first, as in an
installed package); ``--compare OTHER/src`` times another tree's probe side
by side (the code before a change).

Run: ``.venv/bin/python benchmarks/cli_probe.py [--runs 50] [--compare /tmp/before/src]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_sidecar(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = workdir / "healthprobe.toml"
    config.write_text("[serve]\ndrain = 0\n")
    proc = subprocess.Popen(
        [str(BIN / "healthprobe"), "serve", "-c", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the sidecar did not start")


def commands(url: str, compare: Path | None) -> dict[str, list[str]]:
    """The commands to time; the probes run this checkout's ``src`` (and ``compare``'s)."""
    python = str(BIN / "python")
    found = {
        "python -c pass": [python, "-c", "pass"],
        "healthprobe probe": [
            "env",
            f"PYTHONPATH={ROOT / 'src'}",
            str(BIN / "healthprobe"),
            "probe",
            url,
        ],
    }
    if compare is not None:
        found[f"healthprobe probe ({compare})"] = [
            "env", f"PYTHONPATH={compare}", str(BIN / "healthprobe"), "probe", url,
        ]  # fmt: skip
    curl = shutil.which("curl")
    if curl:
        found["curl -f"] = [curl, "-fsS", "-o", "/dev/null", url]
    return found


def precompile(*trees: Path) -> None:
    """Write the bytecode caches, as an installed package has them (no compiling per run)."""
    for tree in trees:
        subprocess.run(
            [str(BIN / "python"), "-m", "compileall", "-q", str(tree / "healthprobe")], check=True
        )


def with_hyperfine(cmds: dict[str, list[str]], runs: int, workdir: Path) -> dict[str, float]:
    export = workdir / "hyperfine.json"
    args = ["hyperfine", "-N", "--warmup", "5", "--runs", str(runs), "--export-json", str(export)]
    for name, cmd in cmds.items():
        args += ["-n", name, " ".join(_quote(c) for c in cmd)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    results = json.loads(export.read_text())["results"]
    return {r["command"]: r["median"] * 1000 for r in results}


def _quote(text: str) -> str:
    # hyperfine -N splits on whitespace with shell-like quoting.
    return "'" + text.replace("'", "'\"'\"'") + "'" if re.search(r"[\s;'\"()]", text) else text


def with_loop(cmds: dict[str, list[str]], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for round_ in range(runs + 5):
        for name, cmd in cmds.items():
            started = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            if round_ >= 5:  # warm-up rounds are not counted
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--compare", type=Path, help="another source tree (its src/) to time side by side"
    )
    args = parser.parse_args()
    # Installed packages have their bytecode caches: never time the compiler.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    precompile(ROOT / "src", *([args.compare] if args.compare else []))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sidecar, port = start_sidecar(workdir)
        try:
            cmds = commands(f"http://127.0.0.1:{port}/livez", args.compare)
            for cmd in cmds.values():  # every command must succeed before it is timed
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            tool = "hyperfine" if shutil.which("hyperfine") else "interleaved loop"
            medians = (
                with_hyperfine(cmds, args.runs, workdir)
                if tool == "hyperfine"
                else with_loop(cmds, args.runs)
            )
        finally:
            sidecar.send_signal(signal.SIGTERM)
            sidecar.wait(15)
    baseline = medians["python -c pass"]
    print(
        f"median wall time over {args.runs} runs ({tool}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs)"
    )
    print("| command | median (ms) | vs python -c pass (ms) |")
    print("|---|---:|---:|")
    for name, value in medians.items():
        print(f"| `{name}` | {value:.1f} | {value - baseline:+.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
