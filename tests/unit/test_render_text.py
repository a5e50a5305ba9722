"""The Kubernetes text format, byte for byte (k8s.io/apiserver healthz handleRootHealth)."""

from __future__ import annotations

import pytest

from healthprobe import Status
from healthprobe.http.policy import Detail
from healthprobe.http.render_text import render_text

from ._reports import report, result

PASS, FAIL, WARN = (
    result(Status.PASS),
    result(Status.FAIL, "db down: ***"),
    result(Status.WARN, "slow"),
)

# The Kubernetes documentation's own example, with our report in place of etcd & co.
K8S_EXAMPLE = (
    b"[+]ping ok\n"
    b"[+]log ok\n"
    b"[+]etcd excluded: ok\n"
    b"[+]poststarthook/start-apiextensions-informers ok\n"
    b"[+]shutdown ok\n"
    b"readyz check passed\n"
)


def test_the_kubernetes_example_byte_for_byte() -> None:
    names = ["ping", "log", "poststarthook/start-apiextensions-informers", "shutdown"]
    rep = report("ready", dict.fromkeys(names, PASS), excluded=("etcd",))
    order = ["ping", "log", "etcd", *names[2:]]
    body = render_text(rep, Detail.SUMMARY, name="readyz", verbose=True, order=order)
    assert body == K8S_EXAMPLE


@pytest.mark.parametrize(
    ("checks", "detail", "verbose", "name", "expected"),
    [
        # a passing probe without ?verbose is just "ok" (no newline), as Kubernetes
        ({"db": PASS}, Detail.SUMMARY, False, "readyz", b"ok"),
        ({"db": PASS}, Detail.SUMMARY, True, "livez", b"[+]db ok\nlivez check passed\n"),
        # a failure is always verbose, and the reason is withheld by default
        (
            {"db": FAIL, "cache": PASS},
            Detail.SUMMARY,
            False,
            "readyz",
            b"[-]db failed: reason withheld\n[+]cache ok\nreadyz check failed\n",
        ),
        # full details replace "reason withheld" with the (sanitized) output
        (
            {"db": FAIL},
            Detail.FULL,
            True,
            "health",
            b"[-]db failed: db down: ***\nhealth check failed\n",
        ),
        # never: no per-check line at all
        ({"db": FAIL}, Detail.NONE, True, "readyz", b"readyz check failed\n"),
        ({"db": PASS}, Detail.NONE, True, "readyz", b"readyz check passed\n"),
        # warn keeps the "+" (it does not fail the probe)
        (
            {"db": WARN},
            Detail.SUMMARY,
            True,
            "readyz",
            b"[+]db warn: reason withheld\nreadyz check passed\n",
        ),
        ({"db": WARN}, Detail.FULL, True, "readyz", b"[+]db warn: slow\nreadyz check passed\n"),
        # unknown (no reading) fails readiness like a failure, and says it is unknown
        (
            {"db": result(Status.UNKNOWN, "no result yet")},
            Detail.SUMMARY,
            True,
            "readyz",
            b"[-]db unknown: reason withheld\nreadyz check failed\n",
        ),
        (
            {"db": result(Status.UNKNOWN, "no result yet")},
            Detail.FULL,
            True,
            "readyz",
            b"[-]db unknown: no result yet\nreadyz check failed\n",
        ),
    ],
)
def test_lines_and_trailer(
    checks: dict[str, object], detail: Detail, verbose: bool, name: str, expected: bytes
) -> None:
    rep = report("ready", checks)  # type: ignore[arg-type]  # the table holds CheckResults
    assert render_text(rep, detail, name=name, verbose=verbose) == expected


def test_a_failing_non_critical_check_is_listed_but_the_probe_passes() -> None:
    rep = report("ready", {"db": PASS, "mail": FAIL}, critical=("db",))
    body = render_text(rep, Detail.SUMMARY, name="readyz", verbose=True)
    # [+]: the line does not fail the probe (HAProxy's `! rstring \[-\]` keeps it in).
    assert body == b"[+]db ok\n[+]mail warn: reason withheld\nreadyz check passed\n"


def test_unmatched_excludes_get_the_kubernetes_warning_line_sorted_and_quoted() -> None:
    rep = report("ready", {"db": PASS}, excluded=(), unmatched=("zz", "aa"))
    body = render_text(rep, Detail.SUMMARY, name="readyz", verbose=True)
    assert body == (
        b"[+]db ok\n"
        b'warn: some health checks cannot be excluded: no matches for "aa","zz"\n'
        b"readyz check passed\n"
    )
    # without ?verbose a pass is still just "ok", as in Kubernetes
    assert render_text(rep, Detail.SUMMARY, name="readyz", verbose=False) == b"ok"
