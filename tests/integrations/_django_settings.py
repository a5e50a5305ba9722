"""The one Django configuration of the test run (Django settings are process-wide)."""

from __future__ import annotations

import django
from django.conf import settings


def configure() -> None:
    """Configure Django once: a login wall on every view, no database, the healthprobe app."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="healthprobe-tests-only",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF="tests.integrations._django_urls",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "healthprobe.integrations.django_app",
        ],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            # Every view needs a login: the probes must be exempt (a 302 is a kubelet "success").
            "django.contrib.auth.middleware.LoginRequiredMiddleware",
        ],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        DATABASES={},
        USE_TZ=True,
        HEALTHPROBE_HEALTH="tests.integrations._django_urls:health",
    )
    django.setup()
