"""Real consumers read one app in four states; each verdict must match the state (issue 13).

One uvicorn process (tests/e2e/_consumers_app.py: ``HealthMiddleware``,
``draining_status=404``, a gRPC health server beside it) goes through:

* healthy: every check passes;
* degraded: ``mail`` (not critical) fails;
* failing: ``db`` (critical) fails;
* draining: every check passes, SIGTERM received (the drain is running).

Consumers: Debian's HAProxy 2.6 (four backends on the same server:
``http-check expect status 200``, ``expect string``, ``expect ! rstring \\[-\\]``
and ``disable-on-404``), blackbox_exporter 0.23 (``http_2xx`` on ``/readyz``,
a body-regex module failing on ``\\[-\\]`` in ``/readyz?verbose``, and its
``grpc`` prober on ``""``, a critical and a non-critical service).  The test
prints the table of what each consumer concluded, per state, and fails on
any cell that differs from what the state means.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e._blackbox import blackbox_exporter
from tests.e2e._replicas import Replica, running
from tests.e2e.test_haproxy_rolling_restart import _haproxy, _haproxy_running, _server_states

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

STATES = ("healthy", "degraded", "failing", "draining")
HAPROXY = {
    "haproxy expect status 200": ("be_status", "GET /readyz", "http-check expect status 200"),
    "haproxy expect string": (
        "be_string",
        "GET /readyz?verbose",
        'http-check expect string "check passed"',
    ),
    "haproxy expect ! rstring \\[-\\]": (
        "be_rstring",
        "GET /readyz?verbose",
        "http-check expect ! rstring \\[-\\]",
    ),
    "haproxy disable-on-404": (
        "be_404",
        "GET /readyz",
        "http-check disable-on-404\n    http-check expect status 200",
    ),
}
BLACKBOX = """\
modules:
  http_2xx:
    prober: http
    timeout: 3s
    http:
      preferred_ip_protocol: ip4
  body_regex:
    prober: http
    timeout: 3s
    http:
      preferred_ip_protocol: ip4
      valid_status_codes: [200, 404, 503]  # the body alone decides
      fail_if_body_matches_regexp: ['\\[-\\]']
  grpc_all:
    prober: grpc
    timeout: 3s
    grpc: {service: "", tls: false, preferred_ip_protocol: ip4}
  grpc_db:
    prober: grpc
    timeout: 3s
    grpc: {service: "shop.Db", tls: false, preferred_ip_protocol: ip4}
  grpc_mail:
    prober: grpc
    timeout: 3s
    grpc: {service: "shop.Mail", tls: false, preferred_ip_protocol: ip4}
"""
BLACKBOX_HTTP = {
    "blackbox http_2xx /readyz": ("http_2xx", "/readyz"),
    "blackbox body regex ! \\[-\\]": ("body_regex", "/readyz?verbose"),
}
BLACKBOX_GRPC = {
    'grpc "" (readiness)': "grpc_all",
    "grpc shop.Db (critical check)": "grpc_db",
    "grpc shop.Mail (non-critical check)": "grpc_mail",
}
UP, DOWN, NOLB, OK, FAIL = "UP", "DOWN", "NOLB", "success", "failure"
SERVING, NOT_SERVING = "SERVING", "NOT_SERVING"
#: consumer -> the verdict each state must produce.
EXPECTED: dict[str, tuple[str, str, str, str]] = {
    "haproxy expect status 200": (UP, UP, DOWN, DOWN),
    "haproxy expect string": (UP, UP, DOWN, DOWN),
    "haproxy expect ! rstring \\[-\\]": (UP, UP, DOWN, DOWN),
    "haproxy disable-on-404": (UP, UP, DOWN, NOLB),  # drained, not marked down
    "blackbox http_2xx /readyz": (OK, OK, FAIL, FAIL),
    "blackbox body regex ! \\[-\\]": (OK, OK, FAIL, FAIL),
    'grpc "" (readiness)': (SERVING, SERVING, NOT_SERVING, NOT_SERVING),
    "grpc shop.Db (critical check)": (SERVING, SERVING, NOT_SERVING, SERVING),
    "grpc shop.Mail (non-critical check)": (SERVING, NOT_SERVING, SERVING, SERVING),
}


def _haproxy_config(app_port: int, front: int, stats: Path) -> str:
    backends = "".join(
        f"\nbackend {backend}\n    option httpchk {request}\n    {rules}\n"
        f"    server app 127.0.0.1:{app_port} check inter 200ms fall 1 rise 1\n"
        for backend, request, rules in HAPROXY.values()
    )
    return f"""\
global
    maxconn 256
    stats socket {stats} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout check 2s

frontend web
    bind 127.0.0.1:{front}
    default_backend be_status
{backends}"""


def _success(client: httpx.Client, exporter: str, target: str, module: str) -> bool:
    reply = client.get(f"{exporter}/probe", params={"target": target, "module": module})
    found = re.search(r"^probe_success (\S+)$", reply.text, re.MULTILINE)
    assert found is not None, reply.text
    return float(found.group(1)) == 1.0


def _haproxy_state(stats: Path, backend: str) -> str:
    try:
        return _server_states(stats, backend).get("app", "?").split(" ")[0]
    except OSError as exc:  # HAProxy binds its stats socket after its frontend
        return repr(exc)


def _settle(read: Callable[[], str], want: str, timeout: float = 10.0) -> str:
    """Read a verdict until it is ``want`` (consumers poll) or ``timeout`` passes; the last one."""
    deadline = time.monotonic() + timeout
    seen = read()
    while seen != want and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = read()
    return seen


#: What the app's own JSON answer says once it is in each state: (status code, label).
OWN_ANSWER = {
    "healthy": (200, "healthy"),
    "degraded": (200, "degraded"),
    "failing": (503, "unhealthy"),
    "draining": (404, "unhealthy"),  # draining_status=404
}
#: Consumers poll: after the app is in a state, this long for them to catch up
#: (HAProxy checks every 200 ms with fall 1 / rise 1).
CATCH_UP = 1.0


def _verdicts(
    state: int, *, stats: Path, client: httpx.Client, exporter: str, app: Replica, grpc_port: int
) -> dict[str, str]:
    seen: dict[str, str] = {}
    for consumer, (backend, _, _) in HAPROXY.items():
        haproxy = functools.partial(_haproxy_state, stats, backend)
        seen[consumer] = _settle(haproxy, EXPECTED[consumer][state])
    for consumer, (module, path) in BLACKBOX_HTTP.items():

        def http(module: str = module, path: str = path) -> str:
            return OK if _success(client, exporter, app.base + path, module) else FAIL

        seen[consumer] = _settle(http, EXPECTED[consumer][state], timeout=3.0)
    for consumer, module in BLACKBOX_GRPC.items():

        def grpc(module: str = module) -> str:
            ok = _success(client, exporter, f"127.0.0.1:{grpc_port}", module)
            return SERVING if ok else NOT_SERVING

        seen[consumer] = _settle(grpc, EXPECTED[consumer][state], timeout=3.0)
    return seen


def _wait_own(client: httpx.Client, app: Replica, status: int, label: str) -> None:
    deadline = time.monotonic() + 10.0
    seen: object = None
    while time.monotonic() < deadline:
        reply = client.get(f"{app.base}/readyz")
        seen = (reply.status_code, reply.json()["status"])
        if seen == (status, label):
            return
        time.sleep(0.05)
    pytest.fail(f"the app never answered {(status, label)} (last: {seen!r})")


def _table(observed: dict[str, list[str]]) -> str:
    width = max(map(len, EXPECTED)) + 2
    lines = [" " * width + "".join(f"{s:<22}" for s in STATES)]
    for consumer, wanted in EXPECTED.items():
        cells = []
        for got, want in zip(observed.get(consumer, []), wanted, strict=False):
            cells.append(f"{got:<22}" if got == want else f"{got}!={want}".ljust(22))
        lines.append(f"{consumer:<{width}}" + "".join(cells))
    return "\n".join(lines)


def test_every_consumer_reads_each_state_as_it_is(tmp_path: Path) -> None:
    _haproxy()
    flags = tmp_path / "flags"
    flags.mkdir()
    grpc_port = free_port()
    env = {"HP_E2E_DIR": str(flags), "HP_E2E_GRPC_PORT": str(grpc_port), "HP_E2E_DRAIN": "30"}
    app = Replica(
        "consumers",
        env,
        tmp_path,
        app="tests.e2e._consumers_app:app",
        extra_args=("--loop", "asyncio"),  # grpc.aio on the server's own asyncio loop
    )
    front, stats = free_port(), tmp_path / "haproxy.sock"
    config = tmp_path / "haproxy.cfg"
    config.write_text(_haproxy_config(app.port, front, stats))
    observed: dict[str, list[str]] = {consumer: [] for consumer in EXPECTED}
    with (
        running(app),
        _haproxy_running(config, front, tmp_path / "haproxy.log"),
        blackbox_exporter(tmp_path, BLACKBOX) as exporter,
        httpx.Client(timeout=10.0) as client,
    ):
        app.wait_status("/readyz", 200, timeout=20.0)
        for index, state in enumerate(STATES):
            if state == "degraded":
                (flags / "mail-down").touch()
            elif state == "failing":
                (flags / "mail-down").unlink()
                (flags / "db-down").touch()
            elif state == "draining":
                (flags / "db-down").unlink()
                app.wait_status("/readyz", 200, timeout=10.0)
                # disable-on-404 drains a server that is up: let HAProxy see it up first.
                for backend, _, _ in HAPROXY.values():
                    _settle(functools.partial(_haproxy_state, stats, backend), UP)
                app.signal_term()
            _wait_own(client, app, *OWN_ANSWER[state])
            time.sleep(CATCH_UP)  # a verdict equal to the last state's must not be read early
            verdicts = _verdicts(
                index, stats=stats, client=client, exporter=exporter, app=app, grpc_port=grpc_port
            )
            for consumer, verdict in verdicts.items():
                observed[consumer].append(verdict)
    table = _table(observed)
    print("\n" + table)
    wrong = [
        (consumer, state, got, want)
        for consumer, wanted in EXPECTED.items()
        for state, got, want in zip(STATES, observed[consumer], wanted, strict=True)
        if got != want
    ]
    assert not wrong, f"{len(wrong)} verdicts differ from the state:\n{table}"
