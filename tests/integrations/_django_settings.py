"""The one Django configuration of the test run (Django settings are process-wide).

Both the framework tests (tests/integrations) and the Django check tests
(tests/services/test_django_checks.py) run under it, in any order in one
process, so it holds what each needs: the login wall of the former, and the
database, cache and storage aliases of the latter.  Django connects lazily: an
alias nobody uses costs nothing.
"""

from __future__ import annotations

import os
import tempfile
import uuid

import django
from django.conf import settings

from tests.conftest import free_port
from tests.services._probe_asserts import CANARY

#: Unique per test run: the check tests create (and drop) these databases themselves.
DB_NAME = f"hp_django_{uuid.uuid4().hex[:10]}"
#: The application_name of every PostgreSQL connection of the "pg" alias.
PG_APP = f"hp-django-{uuid.uuid4().hex[:10]}"
#: A port the check tests keep silent (accepting, never answering) or closed.
SILENT_PORT = free_port()
CLOSED_PORT = free_port()
#: The port of a redis-server the cache tests start, stop and start again.
OWNED_REDIS_PORT = free_port()
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), f"hp-django-media-{uuid.uuid4().hex[:10]}")


def _pg(port: int, **extra: object) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DB_NAME,
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "OPTIONS": {"application_name": PG_APP, "connect_timeout": 2},
        **extra,
    }


def _redis(location: str) -> dict[str, object]:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": location,
        "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
    }


def configure() -> None:
    """Configure Django once: a login wall on every view, the healthprobe app, check aliases."""
    if settings.configured:
        return
    import pymysql

    pymysql.install_as_MySQLdb()  # Django's MySQL backend on PyMySQL (no mysqlclient here)
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
        DATABASES={
            # No database for the framework tests (what DATABASES={} means).
            "default": {"ENGINE": "django.db.backends.dummy"},
            "pg": _pg(5432),
            "pg_silent": _pg(SILENT_PORT),
            "pg_closed": _pg(CLOSED_PORT, PASSWORD=CANARY),
            "maria": {
                "ENGINE": "django.db.backends.mysql",
                "NAME": DB_NAME,
                "USER": "root",
                "HOST": "127.0.0.1",
                "PORT": "3306",
                "OPTIONS": {"connect_timeout": 2},
            },
            # root has no password on this machine: a wrong one is refused.
            "maria_canary": {
                "ENGINE": "django.db.backends.mysql",
                "NAME": DB_NAME,
                "USER": "root",
                "PASSWORD": CANARY,
                "HOST": "127.0.0.1",
                "PORT": "3306",
            },
        },
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "redis": _redis("redis://127.0.0.1:6379/0"),
            "redis_silent": _redis(f"redis://127.0.0.1:{SILENT_PORT}/0"),
            "redis_owned": _redis(f"redis://127.0.0.1:{OWNED_REDIS_PORT}/0"),
            "redis_canary": _redis(f"redis://:{CANARY}@127.0.0.1:{CLOSED_PORT}/0"),
        },
        STORAGES={
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": MEDIA_ROOT},
            },
            # Its directory cannot be created: a path below a regular file.
            "broken": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": os.path.join(MEDIA_ROOT, "a-file", "below")},
            },
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            },
        },
        USE_TZ=True,
        HEALTHPROBE_HEALTH="tests.integrations._django_urls:health",
    )
    django.setup()
