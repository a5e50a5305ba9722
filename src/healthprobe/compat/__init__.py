"""Adapters that keep another health-check library's semantics for its checks.

One module per peer, standard library only (the peer itself is not
imported: its objects are read by their shape).  Each registers the peer's
own check functions or classes on a :class:`~healthprobe.Health` so that
they mean what they meant there:

* :mod:`healthprobe.compat.fastapi_health`: conditions (any truthy result
  passes, dicts merged, ``Depends(...)`` defaults resolved);
* :mod:`healthprobe.compat.django_health_check`: ``HealthCheck`` backends
  (``ServiceWarning`` degrades, other ``HealthCheckException`` fails,
  unexpected exceptions are ``unknown error``; names from the class);
* :mod:`healthprobe.compat.py_healthcheck`: checkers (``(ok, output)``
  by truthiness, success and failure TTLs, ``error_timeout``);
* :mod:`healthprobe.compat.fastapi_healthchecks`: ``Check`` objects
  returning ``CheckResult(name, passed, details)``.

docs/migration/*.md say how many of each peer's own test scenarios pass
unchanged, with a change, or not at all (tests/integrations/test_peer_scenarios.py
computes the numbers).
"""

from __future__ import annotations
