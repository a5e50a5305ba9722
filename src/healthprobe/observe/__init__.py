"""The observe room: what watches the engine's readings and tells people.

Private: the public names live in :mod:`healthprobe.observability` and
:mod:`healthprobe.logfilter`.

What it holds: Prometheus text (``metrics``), per-check history
(``history``), status changes and their listeners (``notify``), transition
log lines (``transitions``), webhooks (``webhook``), OpenTelemetry spans
(``otel``), the HTML status page (``status_page``) and the access-log filter
for probe paths (``logfilter``).  Everything here reads results; nothing
here runs a check or answers a request.

May import: the engine room, the standard library and
``healthprobe._optional``/``_version``.  Never the http room (the
integrations join the two), nor checks, integrations, config or cli.
"""
