"""Payload templates for receivers that want their own shape (``WebhookNotifier(template=...)``).

Each function returns a ``template(change) -> body`` callable:

* :func:`teams_workflow` — a Microsoft Teams Workflows ("When a Teams webhook
  request is received") message carrying one Adaptive Card.
* :func:`pagerduty_events` — a PagerDuty Events API v2 event: ``trigger`` on
  ``failed``/``degraded``, ``resolve`` on ``recovered``, with one
  ``dedup_key`` per check (or probe), so a recovery resolves its incident.
  Post it to ``https://events.pagerduty.com/v2/enqueue``.

The reason is the engine's sanitized output; ``with_reasons=False`` leaves it
out.
"""

from __future__ import annotations

from typing import Any

from healthprobe.engine.sanitize import sanitize

from .notify import StatusChange
from .webhook import Template

__all__ = ["pagerduty_events", "teams_workflow"]

_COLOURS = {"failed": "Attention", "degraded": "Warning", "recovered": "Good"}


def teams_workflow(*, service: str | None = None, with_reasons: bool = True) -> Template:
    """A template posting one Adaptive Card per change to a Teams Workflows webhook."""
    label = sanitize(service, max_length=100) if service else None

    def template(change: StatusChange) -> dict[str, Any]:
        title = (f"[{label}] " if label else "") + change.describe(with_reason=False)
        facts = [
            {"title": "Status", "value": change.current.value},
            {"title": "Scope", "value": f"{change.scope} {change.name}"},
            {"title": "Critical", "value": "yes" if change.critical else "no"},
            {"title": "Time", "value": change.time.isoformat()},
        ]
        if change.outage_seconds is not None:
            facts.append({"title": "Outage", "value": f"{change.outage_seconds:.1f} s"})
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "color": _COLOURS[change.event],
                "wrap": True,
            },
            {"type": "FactSet", "facts": facts},
        ]
        if with_reasons and change.reason and change.event != "recovered":
            body.append({"type": "TextBlock", "text": change.reason, "wrap": True})
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": body,
                    },
                }
            ],
        }

    return template


def pagerduty_events(
    routing_key: str, *, source: str = "healthprobe", with_reasons: bool = True
) -> Template:
    """A template of PagerDuty Events API v2 events; ``routing_key`` is the integration key."""
    if not routing_key or not isinstance(routing_key, str):
        raise ValueError("pagerduty_events needs the integration's routing_key")
    origin = sanitize(source, max_length=100)

    def template(change: StatusChange) -> dict[str, Any]:
        event: dict[str, Any] = {
            "routing_key": routing_key,
            "dedup_key": f"healthprobe:{origin}:{change.scope}:{change.name}",
            "event_action": "resolve" if change.event == "recovered" else "trigger",
        }
        if change.event == "recovered":
            return event
        summary = change.describe(with_reason=with_reasons)
        event["payload"] = {
            "summary": summary[:1024],  # PagerDuty's limit
            "source": origin,
            "severity": "critical" if change.event == "failed" and change.critical else "warning",
            "component": change.name,
            "group": change.scope,
            "timestamp": change.time.isoformat(),
            "custom_details": {
                "status": change.current.value,
                "previous": None if change.previous is None else change.previous.value,
            },
        }
        return event

    return template
