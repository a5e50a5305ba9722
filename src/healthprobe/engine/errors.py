"""Exceptions raised by healthprobe itself (never by a failing check)."""

from __future__ import annotations

__all__ = ["ConfigurationError", "UnknownCheckError", "UnknownProbeError"]


class ConfigurationError(ValueError):
    """A check or probe was configured wrongly.

    Raised at registration time, never while serving a probe; the message names
    the check (or option) and the problem.
    """


class UnknownCheckError(LookupError):
    """A check name was asked for that is not registered (or not in that probe)."""

    def __init__(self, name: str, probe: str | None = None) -> None:
        self.name = name
        self.probe = probe
        where = f" in probe {probe!r}" if probe else ""
        super().__init__(f"no check named {name!r}{where}")


class UnknownProbeError(LookupError):
    """A probe (group) name was asked for that was never declared."""

    def __init__(self, probe: str) -> None:
        self.probe = probe
        super().__init__(f"no probe named {probe!r}")
