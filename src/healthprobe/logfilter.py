"""Keep probe requests out of the access log: :func:`install` and :class:`ProbeAccessFilter`.

The public home of :mod:`healthprobe.observe.logfilter` (see its docstring
for the dictConfig form, ``healthprobe.logfilter.ProbeAccessFilter``).
"""

from __future__ import annotations

from .observe.logfilter import ACCESS_LOGGERS, PROBE_PATHS, ProbeAccessFilter, install

__all__ = ["ACCESS_LOGGERS", "PROBE_PATHS", "ProbeAccessFilter", "install"]
