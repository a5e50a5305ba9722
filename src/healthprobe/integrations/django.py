"""Django integration: URL patterns to include, and an optional app that starts polling.

Settings-free by default::

    # urls.py
    from django.urls import include, path
    from healthprobe.integrations.django import urls as health_urls
    from myproject.health import health

    urlpatterns = [path("", include(health_urls(health))), ...]

Every probe path (``livez``, ``readyz``, ``startupz``, ``health``...) and
``<path>/<check>`` is served by the transport-independent
:class:`~healthprobe.http.handler.ProbeHandler`: the same formats, status codes and
details policy as every other integration.  The views answer GET and HEAD
(405 otherwise: they are exempt from CSRF, so a POST gets a 405, not a 403)
and are exempt from Django 5.1's ``LoginRequiredMiddleware`` (a login
redirect is a 3xx, which a kubelet counts as *success*).  Other middleware
still applies: list the pod IPs, or ``*`` behind a trusted proxy, in
``ALLOWED_HOSTS`` and keep probe paths out of HTTPS redirects
(``SECURE_REDIRECT_EXEMPT``).

Polling and startup, like WSGI (see :mod:`healthprobe.integrations.wsgi`):
the first request a process serves starts :meth:`Health.start` there (one
engine thread per process, so gunicorn's ``--preload`` is safe) and marks
the process started.  Adding ``"healthprobe.integrations.django_app"`` to
``INSTALLED_APPS`` makes that happen on the first request of *any* kind; with
the optional setting ``HEALTHPROBE_HEALTH = "myproject.health:health"`` the
app also marks that :class:`Health` started as soon as Django's app registry
is ready (before any URLconf is loaded).  Neither starts a thread at import.

:class:`HealthProbeMiddleware` (first in ``MIDDLEWARE``, with that setting)
answers the probes before every other middleware instead.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.http.handler import ProbeHandler
from healthprobe.integrations.management import split_management
from healthprobe.integrations.wsgi import ProcessStart, wsgi_request

from ._endpoints import make_handler, served_endpoints
from ._shadow import message, shadowed, warn_shadowing

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern

    from healthprobe.engine.health import Health

__all__ = ["HealthProbeMiddleware", "load_health", "process_start", "start_all", "urls"]

_starts: dict[int, ProcessStart] = {}
_starts_lock = threading.Lock()
# The views urls() made (told apart from the project's own routes), and for each
# exact-path view its handler and path (where it is included gives the prefix).
_OURS: set[Callable[..., Any]] = set()
_MOUNTS: dict[Callable[..., Any], tuple[ProbeHandler, str]] = {}


def process_start(health: Health, *, poll: bool = True, mark_started: bool = True) -> ProcessStart:
    """The one :class:`ProcessStart` of ``health`` (created on first use; its options win).

    Shared by every ``urls(health)`` and the app's ``request_started`` receiver,
    so a :class:`Health` served under several prefixes still starts once.
    """
    with _starts_lock:
        start = _starts.get(id(health))
        if start is None or start.health is not health:
            start = ProcessStart(health, poll=poll, mark_started=mark_started)
            _starts[id(health)] = start
        return start


def start_all(**kwargs: Any) -> None:
    """Start polling (once per process) for every :class:`Health` served here.

    A ``request_started`` signal receiver (the ``django_app`` connects it).
    """
    with _starts_lock:
        starts = list(_starts.values())
    for start in starts:
        start.ensure()


def load_health(dotted: str) -> Health:
    """The :class:`Health` named by ``"package.module:attribute"``."""
    module_name, sep, attribute = dotted.partition(":")
    if not sep or not attribute:
        raise ValueError(f"expected 'package.module:attribute', not {dotted!r}")
    health: Health = getattr(importlib.import_module(module_name), attribute)
    return health


def urls(
    health: Health, *, poll: bool = True, mark_started: bool = True, **options: Any
) -> list[URLPattern]:
    """URL patterns for every probe path of ``health``, to ``include()`` anywhere.

    Every probe path, ``<path>/<check>``, ``/metrics`` and ``/health/ui``,
    each with and without a trailing slash.  Options are those of
    :func:`~healthprobe.integrations._endpoints.make_handler` (a ``prefix``
    is better expressed by where you include the patterns); ``poll`` and
    ``mark_started`` as for :class:`~healthprobe.integrations.wsgi.HealthApp`.
    A route of the project's that one of these patterns shadows (or that
    shadows one of them) is reported by the system check
    ``healthprobe.W001`` (``manage.py check``, ``runserver``) when the
    ``django_app`` is installed.
    """
    django_urls = require("django.urls", "django")
    csrf = require("django.views.decorators.csrf", "django")
    auth = require("django.contrib.auth.decorators", "django")
    exempt_login = getattr(auth, "login_not_required", lambda view: view)  # Django >= 5.1
    handler = make_handler(health, **options)
    start = process_start(health, poll=poll, mark_started=mark_started)

    def answer(request: HttpRequest, path: str) -> HttpResponse:
        return _answer(handler, start, request, path)

    patterns: list[URLPattern] = []
    for path in (*handler.routes, *served_endpoints(handler)):
        name = path.strip("/").replace("/", "-")

        def exact(request: HttpRequest, path: str = path) -> HttpResponse:
            return answer(request, path)

        def below(request: HttpRequest, rest: str, path: str = path) -> HttpResponse:
            return answer(request, f"{path}/{rest}")  # one check, a lifecycle entry

        view = exempt_login(csrf.csrf_exempt(exact))
        _MOUNTS[view] = (handler, path)  # where this handler is included, for W001
        route = path.lstrip("/")
        # Both spellings resolve, so APPEND_SLASH never redirects a probe (a 3xx is a
        # kubelet success), and "/readyz/" is answered, not a 404.
        patterns.append(django_urls.path(route, view, name=f"healthprobe-{name}"))
        patterns.append(django_urls.path(f"{route}/", view, name=f"healthprobe-{name}-slash"))
        if path in handler.routes:
            patterns.append(
                django_urls.path(
                    f"{route}/<path:rest>",
                    exempt_login(csrf.csrf_exempt(below)),
                    name=f"healthprobe-{name}-check",
                )
            )
    _OURS.update(pattern.callback for pattern in patterns)
    return patterns


class HealthProbeMiddleware:
    """Answer the probe paths before any other Django middleware runs (opt-in, needs a setting).

    Put it **first** in ``MIDDLEWARE`` and name the :class:`Health` in
    ``HEALTHPROBE_HEALTH = "package.module:attribute"`` (handler options, if
    any, in the ``HEALTHPROBE_OPTIONS`` dict).  Probes then bypass the host
    check (``ALLOWED_HOSTS`` is validated lazily, by later middleware), HTTPS
    redirects, sessions, authentication and rate limiting: a kubelet calling
    the pod IP gets the probe's answer, not a 400 or a 302.  Every other
    request goes on down the chain unchanged.  ``"management_port"`` (and
    ``"management_host"``) in ``HEALTHPROBE_OPTIONS`` also serve them from a
    listener of their own (:mod:`healthprobe.integrations.management`),
    started with the process's first request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        conf = require("django.conf", "django").settings
        dotted = getattr(conf, "HEALTHPROBE_HEALTH", None)
        if not dotted:
            raise ValueError("HealthProbeMiddleware needs the HEALTHPROBE_HEALTH setting")
        options: dict[str, Any] = dict(getattr(conf, "HEALTHPROBE_OPTIONS", {}))
        poll = bool(options.pop("poll", True))
        mark_started = bool(options.pop("mark_started", True))
        health = load_health(dotted)
        management, options = split_management(health, options)
        self.get_response = get_response
        self.handler = make_handler(health, **options)
        self.start = process_start(health, poll=poll, mark_started=mark_started)
        # In front of every view by design (and so for several releases): warn, never raise.
        theirs = [route for route, callback in project_routes() if callback not in _OURS]
        warn_shadowing(self.handler, theirs, "django.HealthProbeMiddleware")
        if management is not None and self.start.management is None:
            self.start.management = management  # starts with the process's first request

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if self.handler.match(path) is None:
            return self.get_response(request)
        return _answer(self.handler, self.start, request, path)


def project_routes() -> list[tuple[str, Callable[..., Any]]]:
    """Every ``(path, view)`` of the project's URLconf, as ``/a/<b>`` paths (nested included)."""
    resolvers = require("django.urls", "django")
    found: list[tuple[str, Callable[..., Any]]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern).lstrip("^").rstrip("$")
            if isinstance(entry, resolvers.URLResolver):
                walk(entry.url_patterns, route)
            else:
                found.append(("/" + route, entry.callback))

    walk(resolvers.get_resolver().url_patterns, "")
    return found


def shadowing_warnings(**kwargs: Any) -> list[Any]:
    """The ``healthprobe.W001`` system check: a project route that a probe path shadows.

    Registered by the ``django_app``.  A project route that shadows a probe
    path (listed before ``include(urls(health))``) is reported too: the
    probe would never answer there.
    """
    checks = require("django.core.checks", "django")
    routes = project_routes()
    theirs = [route for route, callback in routes if callback not in _OURS]
    mounts: dict[tuple[int, str], ProbeHandler] = {}
    for route, callback in routes:
        mount = _MOUNTS.get(callback)
        if mount is not None and route.endswith(mount[1]):
            mounts[id(mount[0]), route[: -len(mount[1])]] = mount[0]
    out: list[Any] = []
    for (_, prefix), handler in mounts.items():
        local = [r[len(prefix) :] for r in theirs if r.startswith(prefix + "/")]
        found = shadowed(handler, local)
        if found:
            text = message(handler, found, f"django.urls at {prefix or '/'}")
            out.append(checks.Warning(text, id="healthprobe.W001"))
    return out


def _answer(
    handler: ProbeHandler, start: ProcessStart, request: HttpRequest, path: str
) -> HttpResponse:
    http = require("django.http", "django")
    start.ensure()
    probe_request = wsgi_request(request.META, path, all_headers=handler.policy.wants_all_headers)
    response = handler.handle(probe_request)
    out: HttpResponse = http.HttpResponse(
        b"" if response.head else response.body,
        status=response.status,
        content_type=response.content_type,
    )
    for key, value in response.headers():
        out[key] = value  # Content-Length of the GET body on HEAD too
    return out
