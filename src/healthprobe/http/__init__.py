"""The HTTP room: everything a transport adapter calls, with no transport in it.

Private: adapters in :mod:`healthprobe.integrations` are the public way in.

What it holds: the values a transport exchanges with the handler
(``messages``: :class:`Request`, :class:`Response`), the handler itself
(``handler``: routing, planning, the status-code mapping, the render cache),
the seam for endpoints beside the probes (``endpoints``), who sees details
(``policy``), query parsing and content negotiation (``query``), the three
formats (``render_json``, ``render_text``, ``render_ietf``) and the server
lifecycle an adapter runs (``serve``: startup, SIGTERM drain).

May import: the engine room, the standard library and
``healthprobe._optional``/``_version``.  Never the observe room (the
integrations join the two), nor checks, integrations, config or cli.
"""
