"""Watching health over time: history, transition logs, change listeners, metrics, status page.

Everything here observes a :class:`~healthprobe.Health` through its result
listener hook and its last known results; nothing here runs a check.
``docs/observability.md`` shows how the pieces fit together.
"""

from __future__ import annotations

from .observe.alerting import AlertPolicy, MaintenanceWindow, NetworkGuard
from .observe.history import CheckHistory, Entry, History
from .observe.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .observe.metrics import MetricFamily, collect, render_metrics
from .observe.notify import StatusChange, StatusChanges
from .observe.otel import (
    CheckMetrics,
    CheckSpans,
    check_metrics,
    suppress_instrumentation,
    trace_checks,
)
from .observe.status_page import content_security_policy, render_status_page, status_page
from .observe.transitions import DEFAULT_LEVELS, TransitionLog
from .observe.webhook import WebhookNotifier, webhook_payload
from .observe.webhook_templates import pagerduty_events, teams_workflow

__all__ = [
    "DEFAULT_LEVELS",
    "METRICS_CONTENT_TYPE",
    "AlertPolicy",
    "CheckHistory",
    "CheckMetrics",
    "CheckSpans",
    "Entry",
    "History",
    "MaintenanceWindow",
    "MetricFamily",
    "NetworkGuard",
    "StatusChange",
    "StatusChanges",
    "TransitionLog",
    "WebhookNotifier",
    "check_metrics",
    "collect",
    "content_security_policy",
    "pagerduty_events",
    "render_metrics",
    "render_status_page",
    "status_page",
    "suppress_instrumentation",
    "teams_workflow",
    "trace_checks",
    "webhook_payload",
]
