"""Prometheus metrics from the last known results: a scrape never runs a check.

:func:`collect` computes the metric families once (pure data); the
dependency-free text exposition (:func:`render_metrics`, format 0.0.4) and
the prometheus-client collector (``healthprobe.integrations.prometheus``)
both render those same families.

The families:

``healthprobe_check_status{check, status}`` (gauge)
    A state set: for each check one sample per status (``pass``, ``warn``,
    ``unknown``, ``fail``), 1 for the current one and 0 for the others.
    Alert with ``healthprobe_check_status{status="fail"} == 1``; no magic
    numbers to remember, and ``unknown`` (no reading yet, or stale) is never
    confused with a pass.
``healthprobe_check_duration_seconds{check}`` (gauge)
    How long the last reading took.  Absent until the first reading.
``healthprobe_check_failures_total{check}`` (counter)
    Readings reported ``fail`` since the process started observing.
``healthprobe_check_last_success_timestamp_seconds{check}`` (gauge)
    Unix time of the last ``pass``; absent until there is one.
``healthprobe_probe_status{probe, status}`` (gauge)
    The same state set for each probe's aggregate of its checks' last readings.
``healthprobe_probe_up{probe}`` (gauge)
    1 when the probe's verdict lets traffic through (pass or warn), else 0.
``healthprobe_work_in_flight`` (gauge)
    Units of work open now (``health.lifecycle.work``) that shutdown waits for.
``healthprobe_info{version, release_id, service_id}`` (info; a gauge of 1 in
    the 0.0.4 text) — join it to other series to see which release answered.
``healthprobe_tls_certificate_expiry_timestamp_seconds{check}`` (gauge)
    Unix time the certificate seen by a TLS check expires (the check's
    ``not_after`` detail); alert on ``... - time() < 14 * 86400``.

Every per-check series also carries ``component``: the check's IETF
componentType (``datastore``, ``component``, ``system``...), empty when the
check declares none.

:func:`render` writes the Prometheus text format 0.0.4; with
``openmetrics=True`` the OpenMetrics 1.0 text (what Prometheus asks for
first, by ``Accept``; the HTTP layer decides, ``http.query.wants_openmetrics``):
counters are declared without their ``_total``, the info family as ``info``,
and the exposition ends with ``# EOF``.

The probe metrics say what the probe endpoints would answer now: the
checks' last readings with the process's lifecycle folded in (readiness is
down before startup finished and while draining, liveness while marked
broken), so ``healthprobe_probe_up{probe="ready"}`` drops at SIGTERM.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from healthprobe.engine.lifecycle import apply_lifecycle
from healthprobe.engine.status import Status

from .history import History

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.engine.report import Report

__all__ = [
    "CONTENT_TYPE",
    "OPENMETRICS_CONTENT_TYPE",
    "MetricFamily",
    "collect",
    "probe_report",
    "render",
    "render_metrics",
]

#: The Content-Type of the text exposition format 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: The Content-Type of the OpenMetrics 1.0 text exposition.
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"

_STATES = (Status.PASS, Status.WARN, Status.UNKNOWN, Status.FAIL)


@dataclasses.dataclass(frozen=True)
class MetricFamily:
    """One metric family: its name (counters end in ``_total``), type, help and samples."""

    name: str
    kind: Literal["gauge", "counter", "info"]
    help: str
    labels: tuple[str, ...]
    samples: tuple[tuple[tuple[str, ...], float], ...]


def collect(
    health: Health,
    history: History | None = None,
    *,
    info: Mapping[str, str | None] | None = None,
) -> list[MetricFamily]:
    """The metric families for ``health``'s last known state; runs nothing.

    ``history`` supplies the lifetime counters; by default the history
    shared by every observer of ``health`` (:meth:`History.of`), which counts
    from the moment it was first asked for.  ``info`` gives the
    ``release_id`` and ``service_id`` labels of ``healthprobe_info`` (the
    version is ``health.version``).
    """
    history = history if history is not None else History.of(health)
    report = health.latest()
    status: list[tuple[tuple[str, ...], float]] = []
    duration: list[tuple[tuple[str, ...], float]] = []
    failures: list[tuple[tuple[str, ...], float]] = []
    last_success: list[tuple[tuple[str, ...], float]] = []
    expiry: list[tuple[tuple[str, ...], float]] = []
    for name, check in report.checks.items():
        result = check.result
        component = result.component_type or ""
        status.extend(
            ((name, component, state.value), float(check.status is state)) for state in _STATES
        )
        if result.latency is not None:
            duration.append(((name, component), result.latency))
        memory = history.get(name)
        failures.append(((name, component), float(memory.failures)))
        if memory.last_success is not None:
            last_success.append(((name, component), memory.last_success.timestamp()))
        not_after = _timestamp(result.details.get("not_after"))
        if not_after is not None:
            expiry.append(((name, component), not_after))
    probe_status: list[tuple[tuple[str, ...], float]] = []
    probe_up: list[tuple[tuple[str, ...], float]] = []
    for probe in health.probes:
        current = probe_report(health, probe)
        probe_status.extend(
            ((probe, state.value), float(current.status is state)) for state in _STATES
        )
        probe_up.append(((probe,), float(current.ok)))
    identity = info or {}
    return [
        MetricFamily(
            "healthprobe_info",
            "info",
            "The service's version, release and id.",
            ("version", "release_id", "service_id"),
            (
                (
                    (
                        health.version or "",
                        identity.get("release_id") or "",
                        identity.get("service_id") or "",
                    ),
                    1.0,
                ),
            ),
        ),
        MetricFamily(
            "healthprobe_check_status",
            "gauge",
            "Current status of each check (1 for its status, 0 for the others).",
            ("check", "component", "status"),
            tuple(status),
        ),
        MetricFamily(
            "healthprobe_check_duration_seconds",
            "gauge",
            "Duration of the last run of each check, in seconds.",
            ("check", "component"),
            tuple(duration),
        ),
        MetricFamily(
            "healthprobe_check_failures_total",
            "counter",
            "Readings of each check reported as failed.",
            ("check", "component"),
            tuple(failures),
        ),
        MetricFamily(
            "healthprobe_check_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the last passing reading of each check.",
            ("check", "component"),
            tuple(last_success),
        ),
        MetricFamily(
            "healthprobe_tls_certificate_expiry_timestamp_seconds",
            "gauge",
            "Unix time the certificate seen by each TLS check expires.",
            ("check", "component"),
            tuple(expiry),
        ),
        MetricFamily(
            "healthprobe_probe_status",
            "gauge",
            "Aggregate status of each probe's checks (1 for its status, 0 for the others).",
            ("probe", "status"),
            tuple(probe_status),
        ),
        MetricFamily(
            "healthprobe_probe_up",
            "gauge",
            "1 when the probe's checks let traffic through (pass or warn), else 0.",
            ("probe",),
            tuple(probe_up),
        ),
        MetricFamily(
            "healthprobe_work_in_flight",
            "gauge",
            "Units of work in flight that a graceful shutdown waits for.",
            (),
            (((), float(health.lifecycle.in_flight)),),
        ),
    ]


def probe_report(health: Health, probe: str | None) -> Report:
    """What ``probe`` says now without running anything: last readings plus the lifecycle."""
    return apply_lifecycle(health.latest(probe), health.lifecycle.state)


def render(families: list[MetricFamily], *, openmetrics: bool = False) -> str:
    """The text exposition of ``families``: format 0.0.4, or OpenMetrics 1.0."""
    lines: list[str] = []
    for family in families:
        declared, kind = family.name, family.kind
        if openmetrics and kind == "counter":
            declared = declared.removesuffix("_total")  # OpenMetrics names the family bare
        elif openmetrics and kind == "info":
            declared = declared.removesuffix("_info")
        elif kind == "info":
            kind = "gauge"  # 0.0.4 has no info type: the convention is a gauge of 1
        lines.append(f"# HELP {declared} {_escape_help(family.help)}")
        lines.append(f"# TYPE {declared} {kind}")
        for values, value in family.samples:
            # An empty label value means "no such label" to Prometheus: leave it out.
            labels = ",".join(
                f'{label}="{_escape_label(text)}"'
                for label, text in zip(family.labels, values, strict=True)
                if text
            )
            lines.append(f"{family.name}{{{labels}}} {_format_value(value)}")
    if openmetrics:
        lines.append("# EOF")
    return "\n".join(lines) + "\n"


def render_metrics(
    health: Health,
    history: History | None = None,
    *,
    openmetrics: bool = False,
    info: Mapping[str, str | None] | None = None,
) -> str:
    """``render(collect(health, history, info=info))``: the body of a ``/metrics`` response."""
    return render(collect(health, history, info=info), openmetrics=openmetrics)


def _timestamp(value: object) -> float | None:
    """Unix time of an ISO 8601 detail (``not_after``), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value[:64])
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
