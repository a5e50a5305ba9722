"""The one error a config file can cause."""

from __future__ import annotations

from healthprobe.engine.errors import ConfigurationError

__all__ = ["ConfigError"]


class ConfigError(ConfigurationError):
    """A config file is unreadable or invalid.

    The message names the file, the key (``checks.postgres.timeout``) and
    what is wrong with its value.  It never repeats a string value: a value
    may be a secret (a DSN, a password taken from the environment).
    """

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")
