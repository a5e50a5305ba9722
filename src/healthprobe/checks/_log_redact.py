"""Scrub a check's secrets from the log records of a driver that logs its requests.

botocore logs every request it signs at DEBUG, headers included (the
session token in ``X-Amz-Security-Token``, the endpoint host).  A check that
declares those as secrets must not have them written by its driver either:
:func:`redact_loggers` adds a filter to the driver's loggers that replaces
each secret with ``***`` in the message, its arguments and its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

__all__ = ["RedactSecrets", "redact_loggers", "remove_redaction"]


class RedactSecrets(logging.Filter):
    """Rewrites a record whose text holds one of ``secrets``; never drops a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format is left as it is
            return True
        if any(s in message for s in self.secrets):
            record.msg, record.args = self._scrub(message), None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            if any(s in text for s in self.secrets):
                record.exc_info, record.exc_text = None, self._scrub(text)
        return True


def redact_loggers(prefix: str, secrets: Iterable[str]) -> RedactSecrets | None:
    """Add a :class:`RedactSecrets` to ``prefix`` and every logger below it that exists now.

    A filter on a logger sees only the records logged *to* it (not those
    propagated from children), hence one on each.  Call it after the driver
    is imported (its modules create their loggers on import).  Returns the
    filter (to remove it later), or None when there is nothing to hide.
    """
    redact = RedactSecrets(secrets)
    if not redact.secrets:
        return None
    names = [
        n for n in logging.root.manager.loggerDict if n == prefix or n.startswith(prefix + ".")
    ]
    for name in {prefix, *names}:
        logging.getLogger(name).addFilter(redact)
    return redact


def remove_redaction(prefix: str, redact: RedactSecrets | None) -> None:
    """Take ``redact`` off every logger :func:`redact_loggers` may have put it on."""
    if redact is None:
        return
    names = [
        n for n in logging.root.manager.loggerDict if n == prefix or n.startswith(prefix + ".")
    ]
    for name in {prefix, *names}:
        logging.getLogger(name).removeFilter(redact)
