"""``${VAR}`` substitution: secrets come from the environment, not the file.

``${VAR}`` is replaced by the variable's value, ``${VAR:-default}`` falls
back to ``default`` when the variable is unset or empty (as in Compose),
and ``$$`` is a literal ``$``.  A missing variable without a default is an
error naming the variable and the key, never a silent empty string (an
empty password would read as "no password" and fail somewhere far away).
Substitution happens in string values only; the result stays a string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._errors import ConfigError

__all__ = ["substitute"]

_PATTERN = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
_BAD = re.compile(r"\$\{[^}]*\}?")
# Values that reveal nothing; scrubbing them from every message would only
# make messages unreadable (the same rule as checks._dsn).
_HARMLESS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def substitute(
    value: Any,
    environ: Mapping[str, str],
    *,
    path: str,
    key: str,
    found: list[str],
) -> Any:
    """``value`` with every ``${VAR}`` in its strings replaced (recursively).

    The values taken from the environment are appended to ``found``: they
    are declared secret to the engine, which scrubs them from all output.
    """
    if isinstance(value, str):
        return _one(value, environ, path=path, key=key, found=found)
    if isinstance(value, list):
        return [
            substitute(v, environ, path=path, key=f"{key}[{i}]", found=found)
            for i, v in enumerate(value)
        ]
    if isinstance(value, dict):
        return {
            k: substitute(v, environ, path=path, key=f"{key}.{k}", found=found)
            for k, v in value.items()
        }
    return value


def _one(text: str, environ: Mapping[str, str], *, path: str, key: str, found: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group("name"), match.group("default")
        value = environ.get(name)
        if not value and default is not None:
            value = default
        if value is None:
            raise ConfigError(path, key, f"environment variable {name} is not set")
        if value and value not in _HARMLESS:
            found.append(value)
        return value

    result = _PATTERN.sub(replace, text)
    # A "${" left over is a typo (${1X}, an unclosed brace); using it as is would
    # send a literal "${..." as a password.
    leftover = _BAD.search(_PATTERN.sub("", text))
    if leftover:
        raise ConfigError(
            path, key, "malformed ${...} reference (use ${NAME} or ${NAME:-default}; $$ for $)"
        )
    return result
