"""Scrubbing of error text before it can leave the process.

Every string a check produces (its output, string values in its details, the
text of an exception it raised) passes through :func:`sanitize` before it is
stored in a result.  The rules are deliberately blunt: a URL that carries
credentials loses everything between the scheme and the path (user, password
*and* host), even when the text was wrapped inside it (``postgresql://app:pw
@host``), ``key=value`` and ``key: value`` pairs whose key names a secret lose
their value, bearer tokens are dropped, any extra strings the check declared
secret (a password, a host name taken from a DSN) are replaced, a traceback is
reduced to its last line, and the text is flattened to one line and capped in
length.  Exception type names are never taken for secrets:
``AuthenticationError: invalid username-password pair`` stays readable.

Every step is linear in the length of the text, and no regular expression
ever sees more than a bounded prefix of it (:func:`scan_limit`): a check that
returns megabytes of text costs the event loop microseconds, not seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "describe_exception", "sanitize", "sanitize_details", "scan_limit"]

REDACTED = "***"
DEFAULT_MAX_LENGTH = 500
_SHORT_SECRET = 6
_TRACEBACK = "Traceback (most recent call last):"
_SPACES = " \t\n\r\f\v"
_PARTIAL_WORD = 64

# The patterns are written so that Python's backtracking engine stays linear:
# a run of one character class is only ever started where the run begins (the
# look-behinds), and the pieces of a userinfo are separated by a literal space
# that no piece can contain.  Text is whitespace-normalized first, so one
# space stands for any run of whitespace.
_SCHEME = r"(?P<scheme>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://) ?"
_PIECE = r"[^\s/@'\"<>]*"
# scheme://user:password@host  or  scheme://user@host  -> scheme://***@***.  A
# userinfo may hold up to three spaces (a message wrapped inside a DSN); one that
# does must hold a ":" too, or "see https://a.b or mail x@y" would read as a DSN.
_URL_WITH_USERINFO = re.compile(
    _SCHEME + rf"(?P<userinfo>{_PIECE}(?: {_PIECE}){{0,3}})@ ?(?P<host>[^\s/?#'\"<>]*)"
)
# A truncated text ending inside what may be a userinfo (no "@" or "/" yet).
_URL_AT_END = re.compile(_SCHEME + rf"{_PIECE}(?: {_PIECE}){{0,3}}\Z")
_TOKEN = re.compile(r"[\w\-]+")
_SECRET_WORD = re.compile(
    r"password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|credential|auth",
    re.IGNORECASE,
)
# What follows a secret key: an optional closing quote ("api_key": ...), the
# separator, and the value.  A quoted value with no closing quote falls back
# to the unquoted form, so even a cut-off value is scrubbed.
_PAIR_TAIL = re.compile(
    r"(?P<quote>[\"']?)(?P<sep> ?[=:] ?)(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&)}\]]+)"
)
# ``SomeError: message`` is how an exception prints: its type name is no key.
_EXCEPTION_NAME = re.compile(r"[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning)")
_BEARER = re.compile(r"\b(Bearer|Basic|Token) [A-Za-z0-9._~+/=\-]{6,}", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def scan_limit(max_length: int) -> int:
    """How many characters of a text are scrubbed for an output of ``max_length``.

    Scrubbing shortens text (a DSN becomes ``***@***``), so more is read than
    can be shown; the rest is cut off before any pattern runs.
    """
    return max(8 * max_length, 4096)


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
    its own.  A text holding a Python traceback keeps what came before it
    and the traceback's last line (the exception).  Linear in ``len(text)``.
    """
    out = str(text)
    secret_list = sorted({s for s in secrets if s}, key=len, reverse=True)
    short = []
    for secret in secret_list:
        if len(secret) >= _SHORT_SECRET:
            # str.replace on the whole text: a secret is gone before any cut.
            out = out.replace(secret, REDACTED)
        else:
            short.append(secret)
    out = _last_line_of_traceback(out)
    limit = scan_limit(max_length)
    truncated = len(out) > limit
    if truncated:
        out = out[:limit]
        # The last word may be half of a short secret that no rule below would
        # recognize; a longer one is a URL, a pair or a token the rules still see.
        cut = max(out.rfind(space) for space in _SPACES)
        if cut > 0 and limit - cut <= _PARTIAL_WORD:
            out = out[:cut]
    out = _WHITESPACE.sub(" ", out).strip()
    for secret in short:
        # A short secret (a one-letter password) is replaced only where it
        # stands alone, or every word containing that letter would be mangled.
        out = re.sub(rf"(?<![\w.-]){re.escape(secret)}(?![\w.-])", REDACTED, out)
    if truncated:
        out = _URL_AT_END.sub(lambda m: f"{m['scheme']}{REDACTED}", out)
    if "://" in out:
        out = _URL_WITH_USERINFO.sub(_scrub_url, out)
    # Tokens first: "Authorization: Bearer xyz" would otherwise lose only "Bearer".
    out = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", out)
    out = _scrub_pairs(out)
    if truncated or len(out) > max_length:
        out = out[: max_length - 1].rstrip() + "…"
    return out


def _scrub_url(match: re.Match[str]) -> str:
    userinfo = match["userinfo"]
    if " " in userinfo and ":" not in userinfo:
        return match.group(0)  # words around an "@", not a user:password
    return f"{match['scheme']}{REDACTED}@{REDACTED}"


def _scrub_pairs(text: str) -> str:
    """Replace the value of every ``key=value`` / ``key: value`` whose key names a secret."""
    if _SECRET_WORD.search(text) is None:
        return text  # the common case: no word that could be a key
    pieces: list[str] = []
    done = 0  # text[:done] is in pieces already
    for token in _TOKEN.finditer(text):
        if token.start() < done or not _SECRET_WORD.search(token.group()):
            continue
        tail = _PAIR_TAIL.match(text, token.end())
        if tail is None:
            continue
        if ":" in tail["sep"] and _EXCEPTION_NAME.fullmatch(token.group()):
            continue  # "AuthenticationError: invalid ..." is an exception, not a secret
        pieces += (text[done : tail.start("value")], REDACTED)
        done = tail.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _last_line_of_traceback(text: str) -> str:
    start = text.find(_TRACEBACK)
    if start < 0:
        return text
    # The frames name files and lines of code (and may quote secrets in
    # source lines); the last line is the exception, which is what matters.
    body = text[start:].rstrip()
    return text[:start] + body.rpartition("\n")[2].strip()


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
