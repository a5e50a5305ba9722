"""Celery workers, from the app side: the expected workers answer, the expected queues are consumed.

Two broadcast control commands over one kept broker connection:

* ``control.ping`` to the expected worker names.  A control command is
  answered by the worker's main process (its consumer), not by its pool, so
  a worker busy with long tasks still answers: a busy worker is not a dead
  one (codingjoe/django-health-check#272, which replaced a ping *task*, one
  that waits for a free pool slot and so times out exactly when the workers
  are busy).
* ``inspect().active_queues()`` of the workers that answered: every expected
  queue needs at least one consumer, or its messages pile up unseen.

Worker names may be patterns (``orders@*``: pod names are not known in
advance); with literal names only, the broadcast goes to those workers
alone and returns as soon as all have answered.  The broker connection is
opened on the first run with a bounded connect and no retry loop (a ping
against a broker that is down must fail, not hang: django-health-check#285),
kept, and dropped after any failure so the next run reconnects.
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterable
from typing import Any

from healthprobe._optional import require
from healthprobe.checks._dsn import dsn_secrets
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

__all__ = ["CeleryWorkersCheck"]


def _names(name: str, option: str, value: Iterable[str] | str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ConfigurationError(f"check {name!r}: {option} must be non-empty strings")
    return items


class CeleryWorkersCheck:
    """The expected Celery workers answer ``ping`` and the expected queues have a consumer.

    ``app_or_broker`` is the Celery app (its broker settings are used) or a
    broker URL.  ``workers``: names (``celery@host``) or ``fnmatch``
    patterns, each of which must be matched by an answering worker; when
    empty, at least ``min_workers`` must answer.  ``queues``: the queue
    names that need a consumer among the answering workers.
    ``reply_timeout``: seconds to wait for the replies of each broadcast
    (keep ``2 * reply_timeout + connect`` below ``timeout``).
    """

    component_type = "component"

    def __init__(
        self,
        app_or_broker: Any,
        *,
        workers: Iterable[str] | str = (),
        queues: Iterable[str] | str = (),
        min_workers: int = 1,
        reply_timeout: float = 1.0,
        name: str = "celery",
        timeout: float = 5.0,
    ) -> None:
        celery = require("celery", "celery")
        for option, value in (("timeout", timeout), ("reply_timeout", reply_timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigurationError(
                    f"check {name!r}: {option} must be a positive number of seconds, not {value!r}"
                )
        if isinstance(min_workers, bool) or not isinstance(min_workers, int) or min_workers < 1:
            raise ConfigurationError(
                f"check {name!r}: min_workers must be an integer >= 1, not {min_workers!r}"
            )
        self.name = name
        self.timeout = float(timeout)
        self.reply_timeout = float(reply_timeout)
        self.workers = _names(name, "workers", workers)
        self.queues = _names(name, "queues", queues)
        self.min_workers = min_workers
        broker: str | None = None
        if isinstance(app_or_broker, str):
            broker = app_or_broker
            app_or_broker = celery.Celery("healthprobe", broker=broker, set_as_current=False)
        self.app = app_or_broker
        self._connection: Any = None
        # Declared to the engine, which scrubs them from every output.
        self.secrets = dsn_secrets(broker or _broker_url(self.app))

    def check(self) -> CheckResult:
        """One ``ping`` broadcast and, for ``queues``, one ``active_queues`` broadcast."""
        try:
            connection = self._open()
            answered = self._ping(connection)
            missing = [p for p in self.workers if not any(_match(p, w) for w in answered)]
            details: dict[str, Any] = {"workers": sorted(answered)}
            if missing:
                return CheckResult.failed(
                    f"{len(missing)} expected workers did not answer ping: {', '.join(missing)}",
                    details=details,
                    observed_value=len(answered),
                )
            if len(answered) < self.min_workers:
                return CheckResult.failed(
                    f"{len(answered)} workers answered ping, {self.min_workers} needed",
                    details=details,
                    observed_value=len(answered),
                )
            if self.queues:
                consumed = self._queues(connection, answered)
                details["queues"] = {q: sorted(consumed.get(q, ())) for q in self.queues}
                idle = [q for q in self.queues if not consumed.get(q)]
                if idle:
                    return CheckResult.failed(
                        f"no answering worker consumes {', '.join(idle)}",
                        details=details,
                        observed_value=len(answered),
                    )
        except BaseException:
            self._drop()  # the next run reconnects
            raise
        return CheckResult.passed(
            f"{len(answered)} workers answered ping", details=details, observed_value=len(answered)
        )

    def close(self) -> None:
        """Close the kept broker connection.

        The app's own producer pool (which publishes the broadcasts) is left
        alone: kombu shares it between every app of the same broker URL.
        """
        self._drop()

    # -- internals ------------------------------------------------------------------------

    def _open(self) -> Any:
        connection = self._connection
        if connection is None:
            connection = self.app.connection_for_write(connect_timeout=self.reply_timeout)
            # One attempt, bounded: a broker that is down fails the run at once.
            connection.ensure_connection(max_retries=1)
            self._connection = connection
        return connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already failing: nothing more to report
                connection.close()

    def _destination(self) -> list[str] | None:
        literal = self.workers and not any(_is_pattern(w) for w in self.workers)
        return list(self.workers) if literal else None

    def _ping(self, connection: Any) -> set[str]:
        destination = self._destination()
        replies = self.app.control.ping(
            destination=destination,
            timeout=self.reply_timeout,
            connection=connection,
            limit=len(destination) if destination else None,
        )
        answered: set[str] = set()
        for reply in replies or ():  # a list of {hostname: {"ok": "pong"}}
            for hostname, body in dict(reply).items():
                if isinstance(body, dict) and body.get("ok") == "pong":
                    answered.add(str(hostname))
        return answered

    def _queues(self, connection: Any, answered: set[str]) -> dict[str, set[str]]:
        inspect = self.app.control.inspect(
            destination=sorted(answered),
            timeout=self.reply_timeout,
            connection=connection,
            limit=len(answered),
        )
        consumed: dict[str, set[str]] = {}
        for hostname, queues in (inspect.active_queues() or {}).items():
            for queue in queues or ():
                name = queue.get("name") if isinstance(queue, dict) else None
                if isinstance(name, str):
                    consumed.setdefault(name, set()).add(str(hostname))
        return consumed


def _is_pattern(name: str) -> bool:
    return any(char in name for char in "*?[")


def _match(pattern: str, hostname: str) -> bool:
    return fnmatch.fnmatchcase(hostname, pattern) if _is_pattern(pattern) else pattern == hostname


def _broker_url(app: Any) -> str | None:
    try:
        url = app.conf.broker_url
    except Exception:
        return None
    return url if isinstance(url, str) else None
