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
from healthprobe.integrations.wsgi import ProcessStart, wsgi_request

from ._endpoints import make_handler

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern

    from healthprobe.engine.health import Health

__all__ = ["HealthProbeMiddleware", "load_health", "process_start", "start_all", "urls"]

_starts: dict[int, ProcessStart] = {}
_starts_lock = threading.Lock()


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

    Options are those of :class:`~healthprobe.http.handler.ProbeHandler` (a
    ``prefix`` is better expressed by where you include the patterns);
    ``poll`` and ``mark_started`` as for
    :class:`~healthprobe.integrations.wsgi.HealthApp`.
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
    for path in handler.routes:
        name = path.strip("/").replace("/", "-")

        def probe(request: HttpRequest, path: str = path) -> HttpResponse:
            return answer(request, path)

        def one_check(request: HttpRequest, check: str, path: str = path) -> HttpResponse:
            return answer(request, f"{path}/{check}")

        route = path.lstrip("/")
        patterns.append(
            django_urls.path(
                route, exempt_login(csrf.csrf_exempt(probe)), name=f"healthprobe-{name}"
            )
        )
        patterns.append(
            django_urls.path(
                f"{route}/<str:check>",
                exempt_login(csrf.csrf_exempt(one_check)),
                name=f"healthprobe-{name}-check",
            )
        )
    return patterns


class HealthProbeMiddleware:
    """Answer the probe paths before any other Django middleware runs (opt-in, needs a setting).

    Put it **first** in ``MIDDLEWARE`` and name the :class:`Health` in
    ``HEALTHPROBE_HEALTH = "package.module:attribute"`` (handler options, if
    any, in the ``HEALTHPROBE_OPTIONS`` dict).  Probes then bypass the host
    check (``ALLOWED_HOSTS`` is validated lazily, by later middleware), HTTPS
    redirects, sessions, authentication and rate limiting: a kubelet calling
    the pod IP gets the probe's answer, not a 400 or a 302.  Every other
    request goes on down the chain unchanged.
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
        self.get_response = get_response
        self.handler = make_handler(health, **options)
        self.start = process_start(health, poll=poll, mark_started=mark_started)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if self.handler.match(path) is None:
            return self.get_response(request)
        return _answer(self.handler, self.start, request, path)


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
