"""The one error a config file can cause."""

from __future__ import annotations

from healthprobe.engine.errors import ConfigurationError

__all__ = ["ConfigError", "MissingDriverError"]


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


class MissingDriverError(ConfigError):
    """A check's driver (an optional extra) is not installed.

    ``extras`` names the extras to install; :meth:`Config.build` gathers every
    check's into one error, so one ``pip install`` fixes them all.
    """

    def __init__(self, path: str, key: str, problem: str, *, extras: tuple[str, ...]) -> None:
        super().__init__(path, key, problem)
        self.extras = extras
