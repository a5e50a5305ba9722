"""``healthprobe probe`` internals: URL parsing, and an import footprint that stays small."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from healthprobe.cli._probe import ProbeError, parse_url

PROBE_MODULE = Path(__file__).resolve().parents[2] / "src" / "healthprobe" / "cli" / "_probe.py"


@pytest.mark.parametrize(
    ("url", "host", "port", "path", "shown"),
    [
        ("http://127.0.0.1:8000/livez", "127.0.0.1", 8000, "/livez", "http://127.0.0.1:8000/livez"),
        ("http://localhost/readyz", "localhost", 80, "/readyz", "http://localhost:80/readyz"),
        ("https://svc.local", "svc.local", 443, "/", "https://svc.local:443/"),
        ("HTTP://[::1]:9000/x?verbose", "::1", 9000, "/x?verbose", "http://[::1]:9000/x"),
        ("http://u:p%40ss@h:1/a#frag", "h", 1, "/a", "http://h:1/a"),
        ("http://h?token=abc", "h", 80, "/?token=abc", "http://h:80/"),
    ],
)
def test_parse_url(url: str, host: str, port: int, path: str, shown: str) -> None:
    target = parse_url(url)
    assert (target.host, target.port, target.path, target.shown) == (host, port, path, shown)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("localhost:8000/livez", "must start with http:// or https://"),
        ("ftp://h/", "must start with http:// or https://"),
        ("http:///livez", "has no host"),
        ("http://h:0/", "invalid port"),
        ("http://h:99999/", "invalid port"),
        ("http://h:x/", "invalid port"),
        ("http://[::1/", "malformed IPv6"),
        ("http://h/a b", "contains whitespace"),
    ],
)
def test_bad_urls(url: str, problem: str) -> None:
    with pytest.raises(ProbeError, match=problem):
        parse_url(url)


FOOTPRINT = """
import importlib.util, json, sys
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("probe_only", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_probe_module_imports_almost_nothing() -> None:
    # Loaded on its own (as a lazy healthprobe/__init__ would let it be): what it costs.
    out = subprocess.run(
        [sys.executable, "-c", FOOTPRINT, str(PROBE_MODULE)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    imported = set(json.loads(out))
    heavy = {"argparse", "asyncio", "ssl", "http.client", "urllib.parse", "email", "typing"}
    assert not imported & heavy, imported & heavy
    assert not any(name.startswith("healthprobe") for name in imported)
