"""A Django project of its own (settings are process-wide), checked on ``django.db.connection``.

Run as a script by ``test_django_kept_thread.py``: it configures Django
against the machine's PostgreSQL, runs the documented Django check
(``SELECT 1`` on ``django.db.connection``) ``RUNS`` times through
``Health.run()`` and prints, as JSON, the backend PIDs the runs saw and the
server-side connections carrying its application name.
"""

from __future__ import annotations

import json
import sys

import django
import psycopg
from django.conf import settings

from healthprobe import CheckResult, Health

DSN = "postgresql://postgres@127.0.0.1:5432/test"


def main(application_name: str, runs: int) -> None:
    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "test",
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": "5432",
                "OPTIONS": {"application_name": application_name},
            }
        },
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()
    from django.db import connection

    health = Health()

    @health.check(timeout=5)
    def database() -> CheckResult:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1, pg_backend_pid()")
            row = cursor.fetchone()
        return CheckResult.passed(str(row[1]))

    pids = []
    for _ in range(runs):
        result = health.run().checks["database"].result
        assert result.status.value == "pass", result.output
        pids.append(int(result.output))
    with psycopg.connect(DSN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    health.stop()
    print(json.dumps({"pids": sorted(set(pids)), "backends": sorted(r[0] for r in rows)}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
