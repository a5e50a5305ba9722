"""The URLconf (and the Health) of the Django test project in test_django.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from healthprobe import Health
from healthprobe.integrations.django import urls as health_urls

from ._apps import Switch

TOKEN = "django-token-0123456789"

health = Health(version="2.0.0", groups=("background",))
db, mail = Switch("db"), Switch("mail")
health.add(db, timeout=2.0)
health.add(mail, critical=False, timeout=2.0)
heartbeat = Switch("heartbeat")
health.add(heartbeat, critical=False, timeout=1.0, interval=0.05, probes=("background",))


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"home")


urlpatterns = [
    path("", home),
    path("", include(health_urls(health, token=TOKEN))),
    path("ops/", include(health_urls(health, details="always", poll=False))),
]
