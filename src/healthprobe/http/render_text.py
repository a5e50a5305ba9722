"""The Kubernetes API server's plain-text probe format, byte for byte (pure functions).

Mirrors ``handleRootHealth`` in ``k8s.io/apiserver/pkg/server/healthz``::

    [+]database ok
    [+]cache excluded: ok
    [-]queue failed: reason withheld
    warn: some health checks cannot be excluded: no matches for "nope"
    readyz check failed

Without ``verbose`` a passing probe answers just ``ok``; a failing one is
always verbose.  Kubernetes has no "warn": a check whose own status is warn
is written ``[+]name warn: ...`` (the ``+`` keeps the line's meaning: it does
not fail the probe).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from healthprobe.engine.report import Report
from healthprobe.engine.status import Status

from .policy import Detail

__all__ = ["render_text"]

WITHHELD = "reason withheld"


def render_text(
    report: Report,
    detail: Detail,
    *,
    name: str,
    verbose: bool,
    order: Sequence[str] | None = None,
) -> bytes:
    """Render ``report`` as Kubernetes text; ``name`` is the trailer's (``readyz``).

    ``order`` is the order of check names (excluded ones included); by default
    the report's checks, then the excluded names.  With ``Detail.NONE`` no
    per-check line is written; with ``Detail.FULL`` the (sanitized) output
    replaces ``reason withheld``.
    """
    failed = not report.ok
    if not verbose and not failed:
        return b"ok"
    lines: list[str] = []
    if detail is not Detail.NONE:
        excluded = set(report.excluded)
        names = order if order is not None else (*report.checks, *report.excluded)
        for check in names:
            if check in excluded:
                lines.append(f"[+]{check} excluded: ok\n")
                continue
            entry = report.checks.get(check)
            if entry is None:
                continue
            status = entry.result.status
            if status is Status.PASS:
                lines.append(f"[+]{check} ok\n")
                continue
            reason = WITHHELD
            if detail is Detail.FULL:
                reason = entry.result.output or status.value
            if status is Status.WARN:
                lines.append(f"[+]{check} warn: {reason}\n")
            else:
                lines.append(f"[-]{check} failed: {reason}\n")
    if report.unmatched_excludes:
        quoted = ",".join(json.dumps(n) for n in sorted(report.unmatched_excludes))
        lines.append(f"warn: some health checks cannot be excluded: no matches for {quoted}\n")
    lines.append(f"{name} check {'failed' if failed else 'passed'}\n")
    return "".join(lines).encode("utf-8")
