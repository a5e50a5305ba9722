"""Custom checks that tests/unit/test_config.py names with ``callable = "..."``."""

from __future__ import annotations

from healthprobe import CheckResult


def always_ok() -> bool:
    return True


class Login:
    """A careless check that puts its password into its error message."""

    def __init__(self, *, user: str, password: str) -> None:
        self.user = user
        self.password = password

    def check(self) -> None:
        raise RuntimeError(f"{self.user} cannot log in with {self.password}")


class Threshold:
    """A factory with options: ``callable = "...:Threshold"`` plus ``limit = 3``."""

    def __init__(self, *, limit: int, value: int = 5) -> None:
        if limit < 0:
            raise ValueError("limit must not be negative")
        self.limit = limit
        self.value = value

    def check(self) -> CheckResult:
        if self.value > self.limit:
            return CheckResult.warned(f"{self.value} is above {self.limit}")
        return CheckResult.passed(f"{self.value} is within {self.limit}")
