"""The engine room: checks registered, run, polled, aggregated and reported.

Private: the public names live in :mod:`healthprobe`; nothing here is API.

What it holds: the registry (``health``: :class:`Health`), how one check runs
(``spec`` validates its options, ``runtime`` keeps its readings, cache,
staleness and single-flight, ``runs`` bounds one run by its timeout and joins
abandoned calls, ``kept_thread`` is a sync check's one thread, ``closing``
closes what it opened; ``interpret`` reads what it returned;
``thresholds`` damps flapping; ``sanitize`` scrubs what it said), background
polling (``poller``), the reports it hands out (``served``, ``aggregate``,
``report``, ``result``, ``status``), the process lifecycle (``lifecycle``:
started, draining, broken) and the blocking twins for sync callers
(``blocking``: the private engine loop, fork handling).  ``errors`` holds the
exceptions every room raises.

May import: the standard library and ``healthprobe._optional``/``_version``.
Never the http or observe rooms, nor checks, integrations, config or cli:
everything else is built on this room, never the other way round.
"""
