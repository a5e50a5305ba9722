"""Scrubbing of error text before it can leave the process.

Every string a check produces (its output, string values in its details, the
text of an exception it raised) passes through :func:`sanitize` before it is
stored in a result.  The rules are deliberately blunt: a URL that carries
credentials loses everything between the scheme and the path (user, password
*and* host), ``key=value`` and ``key: value`` pairs whose key names a secret
lose their value, bearer tokens are dropped, any extra strings the check
declared secret (a password, a host name taken from a DSN) are replaced, and
the text is flattened to one line and capped in length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "describe_exception", "sanitize", "sanitize_details"]

REDACTED = "***"
DEFAULT_MAX_LENGTH = 500
_SHORT_SECRET = 6

# scheme://user:password@host...  or  scheme://user@host  -> scheme://***@***
_URL_WITH_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s/@'\"<>]*@)(?P<host>[^\s/?#'\"<>]*)"
)
# password=..., "token": "...", api_key: ..., secret '...'
_SECRET_PAIR = re.compile(
    r"(?P<key>\b[\w\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|"
    r"credential|auth)[\w\-]*\b)(?P<quote>[\"']?)(?P<sep>\s*[=:]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&)}\]]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=\-]{6,}", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def sanitize(
    text: object,
    secrets: Iterable[str] = (),
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
) -> str:
    """Return ``text`` as one line with credentials, given secrets and length removed.

    ``secrets`` are literal strings (passwords, host names, whole DSNs) that
    must never appear; each occurrence becomes ``***``.  Longer secrets are
    replaced first so that a DSN is removed whole before its parts.  A secret
    shorter than six characters is replaced only where it stands as a word of
    its own.
    """
    out = str(text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= _SHORT_SECRET:
            out = out.replace(secret, REDACTED)
        else:
            # A short secret (a one-letter password) is replaced only where it
            # stands alone, or every word containing that letter would be mangled.
            out = re.sub(rf"(?<![\w.-]){re.escape(secret)}(?![\w.-])", REDACTED, out)
    out = _URL_WITH_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@{REDACTED}", out)
    # Tokens first: "Authorization: Bearer xyz" would otherwise lose only "Bearer".
    out = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", out)
    out = _SECRET_PAIR.sub(lambda m: f"{m['key']}{m['quote']}{m['sep']}{REDACTED}", out)
    out = _WHITESPACE.sub(" ", out).strip()
    if len(out) > max_length:
        out = out[: max_length - 1].rstrip() + "…"
    return out


def describe_exception(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """A one-line, sanitized description of ``exc``: its type and message, never a traceback."""
    message = str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return sanitize(text, secrets)


def sanitize_details(
    details: Mapping[str, Any], secrets: Iterable[str] = (), *, _depth: int = 0
) -> dict[str, Any]:
    """Sanitize every string (key or value) inside a details mapping, recursively.

    Values that are not JSON-like (numbers, booleans, None, str, lists,
    mappings) are turned into their sanitized ``str()``.  Nesting deeper than
    eight levels is cut off rather than walked.
    """
    secret_list = list(secrets)
    return {
        sanitize(key, secret_list, max_length=100): _clean(value, secret_list, _depth + 1)
        for key, value in details.items()
    }


def _clean(value: Any, secrets: list[str], depth: int) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth > 8:
        return REDACTED
    if isinstance(value, Mapping):
        return sanitize_details(value, secrets, _depth=depth)
    if isinstance(value, (list, tuple)):
        return [_clean(item, secrets, depth + 1) for item in value]
    return sanitize(value, secrets)
