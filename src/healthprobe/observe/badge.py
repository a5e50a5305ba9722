"""Status badges: a small SVG per probe and per check, for READMEs, wikis and dashboards.

The badge reads the last known results (a probe's with its lifecycle, as the
probe endpoints answer): rendering one never runs a check.  The SVG has no
script, no external reference and no style element; every text is escaped.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from healthprobe.engine.errors import UnknownCheckError
from healthprobe.engine.status import Status

from .metrics import probe_report

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["CONTENT_TYPE", "badge", "render_badge"]

CONTENT_TYPE = "image/svg+xml; charset=utf-8"
#: What a badge may load: nothing at all.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

_COLOURS = {
    Status.PASS: "#1a7f37",
    Status.WARN: "#b7791f",
    Status.UNKNOWN: "#6e7781",
    Status.FAIL: "#cf222e",
}
_LABEL = "#555"
_CHAR = 6.5  # average advance of an 11 px sans-serif glyph
_PAD = 6


def render_badge(label: str, status: Status) -> str:
    """The SVG of one badge: ``label`` on grey, the status label on its colour."""
    left = label[:48]
    right = status.label
    left_width = round(len(left) * _CHAR) + 2 * _PAD
    right_width = round(len(right) * _CHAR) + 2 * _PAD
    width = left_width + right_width
    esc = html.escape
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" '
        f'role="img" aria-label="{esc(left)}: {esc(right)}" '
        f'data-status="{status.value}" data-label="{esc(left)}">'
        f"<title>{esc(left)}: {esc(right)}</title>"
        f'<rect width="{left_width}" height="20" rx="3" fill="{_LABEL}"/>'
        f'<rect x="{left_width}" width="{right_width}" height="20" rx="3" '
        f'fill="{_COLOURS[status]}" class="status-{status.value}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{_PAD}" y="14">{esc(left)}</text>'
        f'<text x="{left_width + _PAD}" y="14">{esc(right)}</text></g></svg>'
    )


def badge(health: Health, target: str, *, checks_shown: bool = True) -> str | None:
    """The badge at ``target``: ``<probe>`` (``health`` for the overall status) or
    ``check/<name>``; None when there is no such probe or check (or per-check
    entries are withheld by the details policy: ``checks_shown=False``).
    """
    if target.startswith("check/"):
        name = target.removeprefix("check/")
        if not checks_shown or not name:
            return None
        try:
            report = health.latest(None, only=name)
        except UnknownCheckError:
            return None
        return render_badge(name, report.checks[name].status)
    if target == "health":
        return render_badge("health", probe_report(health, None).status)
    if target in health.probes:
        return render_badge(target, probe_report(health, target).status)
    return None
