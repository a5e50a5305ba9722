"""Query strings and ``Accept`` headers of probe requests (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl

from .render_ietf import IETF_MEDIA_TYPE

__all__ = ["FORMATS", "media_ranges", "negotiate", "parse_query", "wants_openmetrics"]

FORMATS = ("json", "ietf", "text")
_MAX_QUERY_FIELDS = 64
# A "%" not followed by two hex digits: parse_qsl would keep it literally.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ACCEPT = {
    IETF_MEDIA_TYPE: "ietf",
    "application/json": "json",
    "text/plain": "text",
    "text/*": "text",
    "application/*": "json",
    "*/*": "json",
}


def parse_query(query: str) -> tuple[str, bool, tuple[str, ...]] | str:
    """``(format, verbose, exclude)`` from a query string, or the reason it is bad.

    ``verbose`` counts by presence (``?verbose``), as in Kubernetes; other
    parameters (a monitor's cache buster) are ignored, as Kubernetes does.
    An empty ``exclude=`` is kept as the name ``""``: it matches no check, so
    the answer carries Kubernetes' "cannot be excluded" warning line (the
    API server does the same) instead of a 400 that kubelet reads as failure.
    An undecodable percent-escape (``%zz``, a lone ``%``) or a value that is
    not UTF-8 makes the query bad: a name that was meant is never guessed.
    """
    if "%" in query and _BAD_ESCAPE.search(query):
        return "the query string has an undecodable percent-escape"
    try:
        fields = parse_qsl(
            query, keep_blank_values=True, errors="strict", max_num_fields=_MAX_QUERY_FIELDS
        )
    except ValueError:
        return "the query string is malformed"
    fmt, verbose, exclude = "", False, []
    for key, value in fields:
        if key == "verbose":
            verbose = True
        elif key == "exclude":
            exclude.append(value)
        elif key == "format":
            if value not in FORMATS:
                return f"format must be one of {', '.join(FORMATS)}, not {value[:40]!r}"
            fmt = value
    return fmt, verbose, tuple(exclude)


def negotiate(accept: str) -> str:
    """The format an ``Accept`` header prefers; JSON when it names nothing we serve.

    An unsatisfiable ``Accept`` does not get a 406: probes are read by
    machines that mostly look at the status code, so a document they did not
    ask for is better than an error.
    """
    if not accept or accept == "*/*":
        return "json"
    best, best_q = "json", -1.0
    for media, q in media_ranges(accept):
        fmt = _ACCEPT.get(media)
        if fmt is not None and q > best_q and q > 0:
            best, best_q = fmt, q
    return best


def wants_openmetrics(accept: str) -> bool:
    """True when an ``Accept`` header prefers OpenMetrics to the 0.0.4 text (for ``/metrics``).

    Prometheus asks for OpenMetrics first by default.  The preference is
    read from the ``q`` values (``q=0`` refuses a type); a tie goes to
    OpenMetrics, the type the scraper named.
    """
    best_openmetrics = best_text = 0.0
    for media, q in media_ranges(accept[:2048]):
        if media == "application/openmetrics-text":
            best_openmetrics = max(best_openmetrics, q)
        elif media in ("text/plain", "text/*", "*/*"):
            best_text = max(best_text, q)
    return best_openmetrics > 0 and best_openmetrics >= best_text


def media_ranges(accept: str) -> Iterator[tuple[str, float]]:
    """Each media range of an ``Accept`` header, lower-cased, with its ``q`` (1 by default,
    0 when unreadable)."""
    for item in accept.split(","):
        media, *params = item.split(";")
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        yield media.strip().lower(), q
