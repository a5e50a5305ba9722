"""Flask integration: an extension that answers the probes in front of the app, and a blueprint.

::

    from healthprobe.integrations.flask import HealthProbe

    probes = HealthProbe(health=health)      # the extension pattern:
    probes.init_app(app)                     # or HealthProbe(app, health=health)

:class:`HealthProbe` wraps ``app.wsgi_app`` with
:class:`~healthprobe.integrations.wsgi.HealthMiddleware`, so the probe paths
are answered before Flask's ``before_request`` hooks (login, rate limits,
HTTPS redirects) can turn a kubelet probe into a 302 or a 401.  Polling
starts lazily in each process on its first request (fork-safe under
gunicorn's ``--preload``) and that first request marks the process started;
see :mod:`healthprobe.integrations.wsgi`.

:func:`blueprint` serves the same endpoints as ordinary Flask routes (under
the blueprint's ``url_prefix``, behind the app's hooks), for apps that want
the probes to go through their own request handling.

Async checks work: each process has one engine thread that runs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.integrations.wsgi import HealthMiddleware, ProcessStart, status_line, wsgi_request

from ._endpoints import make_handler, served_endpoints
from ._shadow import refuse_shadowing, warn_shadowing

if TYPE_CHECKING:
    from flask import Blueprint, Flask
    from flask import Response as FlaskResponse

    from healthprobe.engine.health import Health

__all__ = ["EXTENSION_KEY", "HealthProbe", "blueprint"]

#: Where :meth:`HealthProbe.init_app` records itself in ``app.extensions``.
EXTENSION_KEY = "healthprobe"


class HealthProbe:
    """The Flask extension: probe endpoints in front of one or more apps.

    Keyword options are those of
    :class:`~healthprobe.integrations.wsgi.HealthMiddleware` (``prefix``,
    ``paths``, ``details``, ``token``, ``authorize``, ``poll``,
    ``mark_started``...).  ``health`` is required; ``app`` may be given now
    or later to :meth:`init_app`.
    """

    def __init__(self, app: Flask | None = None, *, health: Health, **options: Any) -> None:
        require("flask", "flask")
        self.health = health
        self.options = options
        self.middleware: HealthMiddleware | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Answer the probe paths of ``app`` before Flask sees them.

        Raises ``RuntimeError`` when ``app`` already has a healthprobe
        extension (two would answer the same paths).  A route of ``app`` at
        a path the probes answer (defined before this call) is reported with
        a :class:`~healthprobe.integrations.ShadowedRouteWarning`.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("healthprobe is already installed on this Flask app")
        middleware = HealthMiddleware(app.wsgi_app, self.health, **self.options)
        # The extension has answered in front of the app for several releases: warn only.
        warn_shadowing(
            middleware.handler,
            [rule.rule for rule in app.url_map.iter_rules()],
            "flask.HealthProbe",
        )
        app.wsgi_app = middleware  # type: ignore[method-assign]  # the documented way to wrap a Flask app in WSGI middleware
        app.extensions[EXTENSION_KEY] = self
        self.middleware = middleware


def blueprint(
    health: Health,
    *,
    name: str = "healthprobe",
    url_prefix: str | None = None,
    poll: bool = True,
    mark_started: bool = True,
    **options: Any,
) -> Blueprint:
    """The probe endpoints as a Flask :class:`~flask.Blueprint` (GET and HEAD).

    Each probe path, ``<path>/<check>``, ``/metrics`` and ``/health/ui``
    becomes a route, each with and without a trailing slash (never a
    redirect); register it with
    ``app.register_blueprint(blueprint(health), url_prefix=...)``.  Options
    are those of :func:`~healthprobe.integrations._endpoints.make_handler`
    (its ``prefix`` is better expressed as the blueprint's ``url_prefix``).
    Registering it on an app that already routes one of those paths raises
    :class:`~healthprobe.ConfigurationError` naming the route and the option
    that moves the probe path.
    """
    flask = require("flask", "flask")
    handler = make_handler(health, **options)
    process = ProcessStart(health, poll=poll, mark_started=mark_started)
    bp: Blueprint = flask.Blueprint(name, __name__, url_prefix=url_prefix)

    def answer(path: str) -> FlaskResponse:
        process.ensure()
        environ = flask.request.environ
        request = wsgi_request(environ, path, all_headers=handler.policy.wants_all_headers)
        response = handler.handle(request)
        out: FlaskResponse = flask.Response(
            b"" if response.head else response.body, status=status_line(response)
        )
        # Our headers, not Flask's defaults: Content-Length of the GET body on HEAD too.
        out.headers.clear()
        for key, value in response.headers():
            out.headers[key] = value
        return out

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # ours: 405
    for path in (*handler.routes, *served_endpoints(handler)):

        def exact(path: str = path) -> FlaskResponse:
            return answer(path)

        def below(rest: str, path: str = path) -> FlaskResponse:
            return answer(f"{path}/{rest}")  # one check, a lifecycle entry; the handler decides

        endpoint = path.strip("/").replace("/", "_") or "root"
        bp.add_url_rule(path, endpoint, exact, methods=methods)
        bp.add_url_rule(f"{path}/", f"{endpoint}_slash", exact, methods=methods)
        if path in handler.routes:
            bp.add_url_rule(f"{path}/<path:rest>", f"{endpoint}_check", below, methods=methods)

    def refuse(state: Any) -> None:
        prefix = (state.url_prefix or "").rstrip("/")
        theirs = []
        for rule in state.app.url_map.iter_rules():
            if rule.endpoint.startswith(f"{state.name}."):
                continue
            if not prefix or rule.rule.startswith(prefix + "/"):
                theirs.append(rule.rule[len(prefix) :])
        refuse_shadowing(handler, theirs, "flask.blueprint")

    bp.record_once(refuse)
    return bp
