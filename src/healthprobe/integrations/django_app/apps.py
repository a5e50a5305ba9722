"""The AppConfig: polling starts with a process's first request; the setting marks startup."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import register
from django.core.signals import request_started

from healthprobe.integrations.django import (
    load_health,
    process_start,
    shadowing_warnings,
    start_all,
)

__all__ = ["HealthProbeConfig"]


class HealthProbeConfig(AppConfig):
    """Connects :func:`~healthprobe.integrations.django.start_all` to ``request_started``.

    Settings-free.  With ``HEALTHPROBE_HEALTH = "package.module:attribute"``
    that :class:`~healthprobe.Health` is marked started in :meth:`ready`
    (Django's app registry is complete: the application has started) and
    polls from its process's first request on.  :meth:`ready` starts no
    thread: it may run in gunicorn's master before the workers fork.
    """

    name = "healthprobe.integrations.django_app"
    label = "healthprobe"
    verbose_name = "healthprobe"

    def ready(self) -> None:
        dotted = getattr(settings, "HEALTHPROBE_HEALTH", None)
        if dotted:
            health = load_health(dotted)
            process_start(health)
            health.lifecycle.mark_started()
        request_started.connect(start_all, weak=False, dispatch_uid="healthprobe-start-all")
        # A project route that a probe path shadows (or the reverse): healthprobe.W001.
        register(shadowing_warnings, "urls")
