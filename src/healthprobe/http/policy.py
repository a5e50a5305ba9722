"""Who sees how much: the details policy of the HTTP probes (transport-independent).

Three levels of detail, like Spring Boot's ``show-details`` plus the
Kubernetes API server's "reason withheld":

* ``NONE``: the verdict only; no per-check entries at all;
* ``SUMMARY``: check names, statuses, latencies and criticality;
  outputs, error text, observed values and details are withheld;
* ``FULL``: everything, error text included (always sanitized).

The policy decides the level per request, *before* any check runs.
"""

from __future__ import annotations

import enum
import hmac
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.sanitize import describe_exception

if TYPE_CHECKING:
    from .messages import Request

__all__ = ["Detail", "DetailsPolicy"]

logger = logging.getLogger("healthprobe")


class Detail(enum.IntEnum):
    """How much of a report a response shows (ordered: more is larger)."""

    NONE = 0
    SUMMARY = 1
    FULL = 2


class DetailsPolicy:
    """Decide the :class:`Detail` level of a request.

    ``mode``:

    * ``"authorized"`` (default): ``FULL`` for an authorized request, else
      ``SUMMARY``; a request is authorized when it carries
      ``Authorization: Bearer <token>`` equal to ``token`` (compared in
      constant time; the scheme is case-insensitive and may be followed by
      any run of spaces, as RFC 9110 allows) or when ``authorize(request)`` returns True.  With
      neither configured nobody is authorized: the Kubernetes API server's
      default (names and statuses public, reasons withheld).
    * ``"always"``: ``FULL`` for everyone (a private network, a sidecar).
    * ``"never"``: ``NONE`` for everyone: not even check names are shown.
    """

    MODES = ("authorized", "always", "never")

    def __init__(
        self,
        mode: str = "authorized",
        *,
        token: str | None = None,
        authorize: Callable[[Request], bool] | None = None,
    ) -> None:
        if mode not in self.MODES:
            raise ConfigurationError(
                f"details must be one of {', '.join(self.MODES)}, not {mode!r}"
            )
        if token is not None and (not isinstance(token, str) or len(token) < 16):
            raise ConfigurationError("details token must be a string of at least 16 characters")
        if authorize is not None and not callable(authorize):
            raise ConfigurationError("authorize must be a callable taking the request")
        self.mode = mode
        self._expected = None if token is None else token.encode()
        self._authorize = authorize

    @property
    def wants_all_headers(self) -> bool:
        """True when a user callable decides: it gets every header, not only ours."""
        return self.mode == "authorized" and self._authorize is not None

    def level(self, request: Request) -> Detail:
        """The detail level for ``request``; never raises for a bad header."""
        if self.mode == "always":
            return Detail.FULL
        if self.mode == "never":
            return Detail.NONE
        if self._expected is not None:
            given = _bearer(request.headers.get("authorization", ""))
            if given is not None and hmac.compare_digest(given, self._expected):
                return Detail.FULL
        if self._authorize is not None:
            try:
                allowed = self._authorize(request)
            except Exception as exc:  # the user's bug: deny, say so once per request
                logger.warning(
                    "healthprobe: the details authorize callable failed: %s",
                    describe_exception(exc),
                )
                allowed = False
            if allowed is True:
                return Detail.FULL
        return Detail.SUMMARY


def _bearer(value: str) -> bytes | None:
    """The credentials of an ``Authorization: Bearer ...`` value, or None for another scheme.

    RFC 9110: the scheme is case-insensitive, then ``1*SP`` before the
    credentials; surrounding whitespace is not part of the field value.
    """
    scheme, space, credentials = value.strip(" \t").partition(" ")
    if not space or scheme.lower() != "bearer":
        return None
    return credentials.lstrip(" ").encode("utf-8", "replace")
