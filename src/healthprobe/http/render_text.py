"""The Kubernetes API server's plain-text probe format, byte for byte (pure functions).

Mirrors ``handleRootHealth`` in ``k8s.io/apiserver/pkg/server/healthz``::

    [+]database ok
    [+]cache excluded: ok
    [-]queue failed: reason withheld
    [-]search unknown: reason withheld
    warn: some health checks cannot be excluded: no matches for "nope"
    readyz check failed

Without ``verbose`` a passing probe answers just ``ok``; a failing one is
always verbose.  A check without a trustworthy reading (none yet, or a stale
one) that fails the probe is ``[-]name unknown: ...``; a failed one
``[-]name failed: ...``.  A ``[-]`` line appears only under ``check failed``, and only
for a check that fails the probe: consumers grep for it (HAProxy
``http-check expect ! rstring \\[-\\]``, blackbox ``fail_if_body_matches_regexp``).
Kubernetes has no "warn": a check that is not passing but does not fail the
probe (its own status warn; a failing or unknown non-critical check; an
unknown check on a probe whose unknown passes) is written
``[+]name warn: ...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from healthprobe.engine.report import CheckReport, Report
from healthprobe.engine.status import Status

from .policy import Detail

__all__ = ["go_quote", "render_text", "unmatched_line"]

WITHHELD = "reason withheld"
_NAMED = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}


def go_quote(text: str) -> str:
    """``text`` as Go's ``%q`` (``strconv.Quote``) writes it.

    Printable characters, non-ASCII ones included, stay as they are (``"café"``,
    where ``json.dumps`` would write ``"caf\\u00e9"``); ``"`` and ``\\`` are
    escaped; control characters use ``\\n``-style escapes or ``\\xNN``; other
    non-printable characters ``\\uNNNN`` or ``\\UNNNNNNNN`` (lower-case hex).
    """
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif code in _NAMED:
            out.append(_NAMED[code])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def unmatched_line(names: Iterable[str]) -> str:
    """Kubernetes' warning text (without ``warn: ``) for ``?exclude`` names that match nothing."""
    quoted = ",".join(go_quote(n) for n in sorted(names))
    return f"some health checks cannot be excluded: no matches for {quoted}"


def fails_probe(report: Report, entry: CheckReport, *, own: bool = False) -> bool:
    """True when ``entry`` is (one of) the reason ``report`` fails: its ``[-]`` line.

    ``own``: the report is a check's own path, where the check is the verdict.
    """
    if report.ok:
        return False
    status = entry.result.status
    if status is Status.PASS or status is Status.WARN:
        return False
    return own or entry.critical


def render_text(
    report: Report,
    detail: Detail,
    *,
    name: str,
    verbose: bool,
    order: Sequence[str] | None = None,
    own: bool = False,
) -> bytes:
    """Render ``report`` as Kubernetes text; ``name`` is the trailer's (``readyz``).

    ``order`` is the order of check names (excluded ones included); by default
    the report's checks, then the excluded names.  With ``Detail.NONE`` no
    per-check line is written; with ``Detail.FULL`` the (sanitized) output
    replaces ``reason withheld``.  ``own``: the report is one check's own
    path (its line is ``[-]`` whenever the answer fails).
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
            if fails_probe(report, entry, own=own):
                # No reading (or a stale one) is "unknown": the probe fails on it, but
                # saying "failed" would send an operator to a dependency that may be fine.
                word = "unknown" if status is Status.UNKNOWN else "failed"
                lines.append(f"[-]{check} {word}: {reason}\n")
            else:
                lines.append(f"[+]{check} warn: {reason}\n")
    if report.unmatched_excludes:
        lines.append(f"warn: {unmatched_line(report.unmatched_excludes)}\n")
    lines.append(f"{name} check {'failed' if failed else 'passed'}\n")
    return "".join(lines).encode("utf-8")
