"""The one status vocabulary every other module speaks."""

from __future__ import annotations

import enum

__all__ = ["Status"]


class Status(str, enum.Enum):
    """The level of a check result or of an aggregate.

    Ordered by severity: ``PASS < WARN < UNKNOWN < FAIL``.  ``UNKNOWN`` means
    "no trustworthy reading" (not run yet, or the reading went stale); it ranks
    above ``WARN`` so that a critical check without a reading can hold a
    readiness probe back, and below ``FAIL`` so that a real failure always wins.
    """

    PASS = "pass"  # noqa: S105 - a status word, not a password
    WARN = "warn"
    UNKNOWN = "unknown"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        """Rank used for aggregation: a larger number is worse."""
        return _SEVERITY[self]

    @property
    def label(self) -> str:
        """The word used in healthprobe's default JSON (``healthy``, ``degraded``...)."""
        return _LABELS[self]

    @classmethod
    def parse(cls, value: object) -> Status:
        """Read a status word used by any of the common conventions.

        Accepts healthprobe's own words and the aliases of IETF health+json,
        Spring, ASP.NET, gRPC and the Python peers (``ok``, ``up``, ``healthy``,
        ``degraded``, ``down``, ``error``...), case-insensitively.  Raises
        ``ValueError`` for anything else, so a typo never reads as healthy.
        """
        if isinstance(value, Status):
            return value
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_").replace(" ", "_")
            found = _ALIASES.get(key)
            if found is not None:
                return found
        raise ValueError(f"unrecognized status {value!r}")

    def __str__(self) -> str:
        return self.value


_SEVERITY = {Status.PASS: 0, Status.WARN: 1, Status.UNKNOWN: 2, Status.FAIL: 3}
_LABELS = {
    Status.PASS: "healthy",
    Status.WARN: "degraded",
    Status.UNKNOWN: "unknown",
    Status.FAIL: "unhealthy",
}
_ALIASES: dict[str, Status] = {}
for _status, _words in {
    Status.PASS: ("pass", "passed", "passing", "ok", "up", "healthy", "success", "serving"),
    Status.WARN: ("warn", "warning", "degraded"),
    Status.UNKNOWN: ("unknown",),
    Status.FAIL: (
        "fail",
        "failed",
        "failure",
        "error",
        "down",
        "unhealthy",
        "critical",
        "not_serving",
        "out_of_service",
    ),
}.items():
    for _word in _words:
        _ALIASES[_word] = _status
