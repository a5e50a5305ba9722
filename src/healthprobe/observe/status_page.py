"""The status page (``/health/ui``): one self-contained HTML document, no script at all.

Everything is inline: one ``<style>`` element allowed by a per-response
nonce, and per check two inline SVGs: a status timeline (one mark per
reading, coloured by its status) and a latency sparkline.  There is no JavaScript (the
page refreshes itself with ``<meta http-equiv="refresh">``), so the
Content-Security-Policy can forbid scripts, connections, frames, forms and
every external fetch.  Every piece of text is HTML-escaped.  It reads the
last known results and the shared :class:`~healthprobe.observe.history.History`:
rendering the page never runs a check.
"""

from __future__ import annotations

import datetime as dt
import html
import secrets
from typing import TYPE_CHECKING

from healthprobe.engine.status import Status

from .history import CheckHistory, Entry, History
from .metrics import probe_report

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.engine.report import CheckReport

__all__ = [
    "content_security_policy",
    "new_nonce",
    "render_status_page",
    "sparkline",
    "status_page",
    "timeline",
]

CONTENT_TYPE = "text/html; charset=utf-8"
SPARK_WIDTH = 160
SPARK_HEIGHT = 28
TIMELINE_HEIGHT = 14

_CSS = """
:root{color-scheme:light dark;--pass:#1a7f37;--warn:#b7791f;--unknown:#6e7781;--fail:#cf222e}
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .25rem}
.meta{color:var(--unknown);margin:.25rem 0 1rem}
.badge{border-radius:1em;color:#fff;display:inline-block;font-weight:600;padding:.1em .7em}
.status-pass .badge,.badge.status-pass{background:var(--pass)}
.status-warn .badge,.badge.status-warn{background:var(--warn)}
.status-unknown .badge,.badge.status-unknown{background:var(--unknown)}
.status-fail .badge,.badge.status-fail{background:var(--fail)}
.overall{font-size:1.2rem}
.probes{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #8884;padding:.45rem .5rem;text-align:left;vertical-align:middle}
td.num{font-variant-numeric:tabular-nums;text-align:right}
.sparkline{display:block}
.sparkline polyline{fill:none;stroke:var(--unknown);stroke-width:1.5}
.sparkline .pt-fail{fill:var(--fail)}
.sparkline .pt-warn{fill:var(--warn)}
.sparkline .pt-unknown{fill:var(--unknown)}
.sparkline .empty,.timeline .empty{fill:var(--unknown);font-size:10px}
.timeline{display:block}
.timeline .tl-pass{fill:var(--pass)}
.timeline .tl-warn{fill:var(--warn)}
.timeline .tl-unknown{fill:var(--unknown)}
.timeline .tl-fail{fill:var(--fail)}
.reason{color:var(--unknown);font-size:.9em}
"""


def new_nonce() -> str:
    """A fresh, unguessable nonce for one response's Content-Security-Policy."""
    return secrets.token_urlsafe(18)


def content_security_policy(nonce: str) -> str:
    """The page's Content-Security-Policy: its own nonce'd style element, nothing else."""
    return (
        "default-src 'none'; "
        f"style-src 'nonce-{nonce}'; "
        "img-src 'none'; script-src 'none'; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def status_page(
    health: Health,
    history: History | None = None,
    *,
    show_reasons: bool = False,
    show_checks: bool = True,
    refresh_seconds: int = 10,
    title: str = "Service health",
) -> tuple[str, dict[str, str]]:
    """The page's body and the headers to send with it (a new nonce each call).

    ``show_reasons`` and ``show_checks`` are the HTTP layer's details-policy
    decision for this request: without reasons a last failure shows its time
    and "reason withheld"; without checks (details ``never``) the page shows
    the overall and probe statuses only.
    """
    nonce = new_nonce()
    body = render_status_page(
        health,
        history,
        nonce=nonce,
        show_reasons=show_reasons,
        show_checks=show_checks,
        refresh_seconds=refresh_seconds,
        title=title,
    )
    headers = {
        "Content-Type": CONTENT_TYPE,
        "Content-Security-Policy": content_security_policy(nonce),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return body, headers


def render_status_page(
    health: Health,
    history: History | None = None,
    *,
    nonce: str,
    show_reasons: bool = False,
    show_checks: bool = True,
    refresh_seconds: int = 10,
    title: str = "Service health",
) -> str:
    """The HTML of the status page (see :func:`status_page` for the headers)."""
    history = history if history is not None else History.of(health)
    report = health.latest()
    overall = probe_report(health, None)  # with the process's lifecycle, like /health
    now = dt.datetime.now(dt.timezone.utc)
    esc = _esc
    probes = "".join(
        f'<li class="status-{p.status.value}" data-probe="{esc(p.probe or "")}">'
        f'{esc(p.probe or "")} <span class="badge">{esc(p.status.label)}</span></li>'
        for p in (probe_report(health, name) for name in health.probes)
    )
    if not show_checks:
        rows = '<tr><td colspan="7">Check details are not shown here.</td></tr>'
    elif report.checks:
        rows = "".join(
            _row(check, history.get(name), show_reasons) for name, check in report.checks.items()
        )
    else:
        rows = '<tr><td colspan="7">No checks are registered.</td></tr>'
    version = f" · version {esc(health.version)}" if health.version else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="refresh" content="{max(1, int(refresh_seconds))}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title>"
        f'<style nonce="{esc(nonce)}">{_CSS}</style></head><body>'
        f"<header><h1>{esc(title)}</h1>"
        f'<p class="overall status-{overall.status.value}" id="overall" '
        f'data-status="{overall.status.value}">Overall: '
        f'<span class="badge">{esc(overall.status.label)}</span></p>'
        f'<p class="meta">Updated {esc(_when(now))}{version} · '
        f"up {esc(_duration(health.uptime()))} · process {esc(_process(health))}</p>"
        f'<ul class="probes">{probes}</ul></header>'
        '<main><table><thead><tr><th scope="col">Check</th><th scope="col">Status</th>'
        '<th scope="col">Latency</th><th scope="col">Status history</th>'
        '<th scope="col">Latency history</th>'
        '<th scope="col">Uptime</th><th scope="col">Last failure</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></main></body></html>\n"
    )


def _row(check: CheckReport, memory: CheckHistory, show_reasons: bool) -> str:
    esc = _esc
    status = check.status
    latency = check.result.latency_ms
    ratio = memory.uptime_ratio
    critical = "" if check.critical else ' <span class="reason">(non-critical)</span>'
    return (
        f'<tr class="check status-{status.value}" data-check="{esc(check.name)}" '
        f'data-status="{status.value}"><th scope="row">{esc(check.name)}{critical}</th>'
        f'<td><span class="badge">{esc(status.label)}</span></td>'
        f'<td class="num">{"-" if latency is None else f"{latency:.1f} ms"}</td>'
        f"<td>{timeline(memory.entries, check.name)}</td>"
        f"<td>{sparkline(memory.entries, check.name)}</td>"
        f'<td class="num">{"-" if ratio is None else f"{ratio * 100:.1f} %"}</td>'
        f"<td>{_last_failure(memory, show_reasons)}</td></tr>"
    )


def sparkline(entries: tuple[Entry, ...], name: str = "") -> str:
    """An inline SVG of the latencies in ``entries``, non-passing readings marked by a dot."""
    head = (
        f'<svg class="sparkline" data-check="{_esc(name)}" data-points="{len(entries)}" '
        f'width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
        f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" role="img" '
        f'aria-label="latency of the last {len(entries)} readings">'
    )
    if not entries:
        return head + '<text class="empty" x="2" y="17">no readings yet</text></svg>'
    top = max((entry.latency for entry in entries), default=0.0) or 1e-6
    pad = 3.0
    step = (SPARK_WIDTH - 2 * pad) / max(len(entries) - 1, 1)
    points: list[tuple[float, float]] = [
        (pad + i * step, SPARK_HEIGHT - pad - (entry.latency / top) * (SPARK_HEIGHT - 2 * pad))
        for i, entry in enumerate(entries)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(
        f'<circle class="pt-{entry.status.value}" cx="{x:.1f}" cy="{y:.1f}" r="2"/>'
        for (x, y), entry in zip(points, entries, strict=True)
        if entry.status is not Status.PASS
    )
    return f'{head}<polyline points="{line}"/>{dots}</svg>'


def timeline(entries: tuple[Entry, ...], name: str = "") -> str:
    """An inline SVG with one mark per reading in ``entries``, coloured by its status."""
    head = (
        f'<svg class="timeline" data-check="{_esc(name)}" data-points="{len(entries)}" '
        f'width="{SPARK_WIDTH}" height="{TIMELINE_HEIGHT}" '
        f'viewBox="0 0 {SPARK_WIDTH} {TIMELINE_HEIGHT}" role="img" '
        f'aria-label="status of the last {len(entries)} readings">'
    )
    if not entries:
        return head + '<text class="empty" x="2" y="11">no readings yet</text></svg>'
    step = SPARK_WIDTH / len(entries)
    width = max(step - 1.0, 1.0)  # a one-pixel gap between marks while they fit
    marks = "".join(
        f'<rect class="tl-{entry.status.value}" x="{i * step:.1f}" y="0" '
        f'width="{width:.1f}" height="{TIMELINE_HEIGHT}"><title>'
        f"{_esc(_when(entry.time))}: {_esc(entry.status.label)}</title></rect>"
        for i, entry in enumerate(entries)
    )
    return f"{head}{marks}</svg>"


def _last_failure(memory: CheckHistory, show_reasons: bool) -> str:
    failure = memory.last_failure
    if failure is None:
        return "never"
    when = _when(failure.time) if failure.time else "unknown time"
    reason = (failure.output or "no reason given") if show_reasons else "reason withheld"
    return f'{_esc(when)}<br><span class="reason">{_esc(reason)}</span>'


def _process(health: Health) -> str:
    state = health.lifecycle.state
    if state.broken is not None:
        return "marked broken"
    if state.draining:
        return "draining"
    if not state.started:
        return "starting"
    return "marked not ready" if state.marked_not_ready else "serving"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)
