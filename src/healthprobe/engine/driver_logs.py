"""Scrubbing the log records of the drivers the checks use (httpx, asyncpg, redis...).

A check's own output is sanitized before it is stored; the drivers it opens
log on their own loggers, and at ``DEBUG`` they write what they connect to:
``httpcore.connection`` logs ``connect_tcp.started host='db.internal' ...``.
A user who marked that host secret must not find it in their logs either.

So once a check declares a secret, healthprobe wraps the process's
log-record factory (:func:`logging.setLogRecordFactory`, chained to the one
in place): a record whose logger is one of :data:`DRIVER_LOGGERS` or below
one (``httpcore.http11``) has its message rendered and scrubbed with
:func:`~healthprobe.engine.sanitize.sanitize` against every secret any check
declared, and an exception it carries becomes its one-line description.
Records of any other logger are left as they are (the cost is one
``str.startswith`` per record).  Records are only created for enabled
levels, so with the drivers' ``DEBUG`` off nothing is scrubbed at all.

This scrubs rather than silences: the app's own use of the same libraries
keeps its logging, levels and handlers; only secrets go.  :func:`uninstall`
restores the previous factory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from .sanitize import describe_exception, sanitize

__all__ = ["DRIVER_LOGGERS", "declare", "installed", "secrets", "uninstall"]

#: The loggers (and everything below them) of the drivers the built-in checks open.
DRIVER_LOGGERS = (
    "httpx",
    "httpcore",
    "h11",
    "h2",
    "hpack",
    "asyncpg",
    "psycopg",
    "aiomysql",
    "asyncmy",
    "pymysql",
    "sqlalchemy",
    "alembic",
    "redis",
    "aio_pika",
    "aiormq",
    "pamqp",
    "nats",
    "aiomqtt",
    "paho",
)
_PREFIXES = tuple(f"{name}." for name in DRIVER_LOGGERS)
_NAMES = frozenset(DRIVER_LOGGERS)
# Debug records are long (request lines, headers); the cap only bounds the work.
_MAX_LENGTH = 2000

_lock = threading.Lock()
_secrets: dict[str, None] = {}  # insertion-ordered set


class _State:
    previous: Any = None  # the factory we wrapped, while installed


_state = _State()


def declare(values: Iterable[str]) -> None:
    """Add ``values`` to the secrets scrubbed from driver records; install on first use."""
    new = [v for v in values if isinstance(v, str) and v and v not in _secrets]
    if not new and _state.previous is not None:
        return
    with _lock:
        for value in new:
            _secrets[value] = None
        if _state.previous is None and _secrets:
            _state.previous = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_factory)


def secrets() -> tuple[str, ...]:
    """Every secret declared so far."""
    return tuple(_secrets)


def installed() -> bool:
    """Whether driver records are being scrubbed."""
    return _state.previous is not None


def uninstall() -> None:
    """Restore the record factory in place before (declared secrets are kept)."""
    with _lock:
        if _state.previous is not None and logging.getLogRecordFactory() is _factory:
            logging.setLogRecordFactory(_state.previous)
        _state.previous = None


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    previous = _state.previous or logging.LogRecord
    record: logging.LogRecord = previous(*args, **kwargs)
    name = record.name
    if name in _NAMES or name.startswith(_PREFIXES):
        _scrub(record)
    return record


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a driver's bad format string: keep only the template
        message = str(record.msg)
    known = tuple(_secrets)
    if record.exc_info and record.exc_info[1] is not None:
        message += f" ({describe_exception(record.exc_info[1], known)})"
        record.exc_info = None
        record.exc_text = None
    record.msg = sanitize(message, known, max_length=_MAX_LENGTH)
    record.args = None
