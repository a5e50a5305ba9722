"""A worker-like process with no web server: ``serve_in_thread`` is its probe server.

``python -m tests.e2e._thread_server_app PORT DRAIN [own-handler] [job=SECONDS]``: with
``own-handler`` the process installs its own SIGTERM handler first (a
worker's warm shutdown), which the drain must hand over to; with ``job=S`` a
unit of work (``health.lifecycle.work``) runs for S seconds from the start.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType

import healthprobe

stop = False


def warm_shutdown(signum: int, frame: FrameType | None) -> None:
    global stop  # noqa: PLW0603 - the flag a worker's main loop reads
    print("warm shutdown", flush=True)
    stop = True


def job(health: healthprobe.Health, seconds: float) -> None:
    with health.lifecycle.work("job"):
        time.sleep(seconds)
    print("job done", flush=True)


def main() -> None:
    port, drain = int(sys.argv[1]), float(sys.argv[2])
    if "own-handler" in sys.argv[3:]:
        signal.signal(signal.SIGTERM, warm_shutdown)
    health = healthprobe.Health(version="1.0")
    health.add(lambda: True, name="queue", interval=0.2)
    server = healthprobe.serve_in_thread(health, port=port, drain=drain, drain_max=20.0)
    print(f"listening on {server.port}", flush=True)
    jobs = [float(arg.removeprefix("job=")) for arg in sys.argv[3:] if arg.startswith("job=")]
    for seconds in jobs:
        threading.Thread(target=job, args=(health, seconds), daemon=True).start()
    while not stop:
        time.sleep(0.05)  # the worker's own work
    print("worker done", flush=True)


if __name__ == "__main__":
    main()
