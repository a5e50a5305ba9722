"""Keep probe requests out of the access log.

kubelet, Docker and load balancers poll the probe paths every few seconds;
their lines bury the requests that matter.  One line, after logging is set
up (for example at the top of your ASGI module)::

    healthprobe.logfilter.install()

drops uvicorn's and gunicorn's access-log lines for ``/livez``, ``/live``,
``/readyz``, ``/ready`` and ``/startupz`` (and ``/<probe>/<check>``).  The
detailed ``/health`` report stays logged: people, not orchestrators, read it.
With ``keep_failures=True`` probe answers of 400 and above are still logged.

For ``logging.config.dictConfig`` (gunicorn's ``logconfig_dict``, uvicorn's
``--log-config``) name the class instead::

    "filters": {"probes": {"()": "healthprobe.logfilter.ProbeAccessFilter"}}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

__all__ = ["ACCESS_LOGGERS", "PROBE_PATHS", "ProbeAccessFilter", "install"]

#: The default probe paths of the HTTP layer, without the detailed ``/health``.
PROBE_PATHS = ("/livez", "/live", "/readyz", "/ready", "/startupz")
#: The loggers uvicorn and gunicorn write one line per request to.
ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access")

# Fallback for a line formatted before logging (old gunicorn, custom loggers):
# '"GET /livez HTTP/1.1" 200'.
_REQUEST_LINE = re.compile(r'"[A-Z]+ (?P<path>[^ "?]+)[^ "]* HTTP/[0-9.]+" (?P<status>\d{3})')


class ProbeAccessFilter(logging.Filter):
    """A ``logging.Filter`` that rejects access-log records of probe requests.

    ``paths``: the probe paths (a request for ``path`` or ``path/<check>``
    matches), each prefixed with ``prefix``.  Records that are not access-log
    lines pass untouched.
    """

    def __init__(
        self,
        paths: Iterable[str] = PROBE_PATHS,
        *,
        prefix: str = "",
        keep_failures: bool = False,
    ) -> None:
        super().__init__()
        self.paths = frozenset(prefix + p for p in ([paths] if isinstance(paths, str) else paths))
        self.keep_failures = keep_failures

    def filter(self, record: logging.LogRecord) -> bool:
        """False (drop) for a probe request; True for everything else."""
        found = _request(record)
        if found is None:
            return True
        path, status = found
        if path not in self.paths and path.rpartition("/")[0] not in self.paths:
            return True
        return self.keep_failures and status is not None and status >= 400


def _request(record: logging.LogRecord) -> tuple[str, int | None] | None:
    """The (path, status) of an access-log record, or None when it is not one."""
    args = record.args
    # uvicorn: '%s - "%s %s HTTP/%s" %d' % (client, method, path?query, version, status)
    if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
        status = args[4]
        return args[2].partition("?")[0], status if isinstance(status, int) else None
    # gunicorn >= 19.10 logs its format with a mapping of "atoms": U = path, s = status
    if isinstance(args, Mapping) and "U" in args:
        path, status = args.get("U"), str(args.get("s", ""))
        if isinstance(path, str):
            return path, int(status) if status.isdigit() else None
    if not args and isinstance(record.msg, str) and " HTTP/" in record.msg:
        match = _REQUEST_LINE.search(record.msg)
        if match:
            return match["path"], int(match["status"])
    return None


def install(
    paths: Iterable[str] = PROBE_PATHS,
    *,
    prefix: str = "",
    keep_failures: bool = False,
    loggers: Iterable[str] = ACCESS_LOGGERS,
) -> ProbeAccessFilter:
    """Add one :class:`ProbeAccessFilter` to the access loggers; return it.

    Idempotent: a filter this function installed before is replaced, so a
    module imported twice (reloaders) does not stack filters.
    """
    probe_filter = ProbeAccessFilter(paths, prefix=prefix, keep_failures=keep_failures)
    for name in loggers:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, ProbeAccessFilter)]:
            logger.removeFilter(old)
        logger.addFilter(probe_filter)
    return probe_filter
