"""Probe endpoints for any WSGI application: a mountable app and a middleware.

Standard library only.  Both translate WSGI to the transport-independent
:class:`~healthprobe.http.handler.ProbeHandler`, the very code the ASGI layer uses:
same paths, formats, status codes and details policy.  Neither reads a
request body.

* :class:`HealthMiddleware` answers the probe paths *before* the wrapped
  application sees them (its routing, ``before_request`` authentication or
  HTTPS redirects cannot block a kubelet probe); every other request passes
  through untouched.
* :class:`HealthApp` is the same endpoints as an application of their own,
  to mount under a dispatcher (paths are relative to ``SCRIPT_NAME``) or to
  serve on a separate port.

Processes, threads and ``fork``
-------------------------------
WSGI has no lifespan protocol, so the start is *lazy and per process*: the
first request a process serves (a probe or not, for the middleware) starts
background polling (:meth:`Health.start`, one engine thread per process)
and marks the process started (readiness and ``/startupz`` may pass from
then on).  Nothing starts a thread when the app is created, so gunicorn's
``--preload`` (create the app, then ``fork`` the workers) is safe: each
worker starts its own engine thread on its first request.  Do not call
``health.start()`` yourself before the fork (for example at import time
under ``--preload``): an event loop thread does not survive ``fork``.

``mark_started=False`` leaves the startup decision to the application (call
``health.lifecycle.mark_started()`` when its warm-up is done).  Probes are
answered with :meth:`Health.run`, which blocks the worker thread for at most
the probe's deadline; checks run concurrently on the engine loop, so async
checks work under sync workers (gunicorn ``sync`` and ``gthread``).

``management_port=`` also serves the endpoints from a listener of their own
(:mod:`healthprobe.integrations.management`): it starts with the process's
first request or an explicit ``middleware.management.start()`` (once per
process: call it where each worker starts, not before a fork).

At worker exit, call ``health.stop()`` (gunicorn's ``worker_exit`` hook) to
close the checks' clients; the engine thread is a daemon and never keeps a
worker alive.
"""

from __future__ import annotations

import http
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from healthprobe.http.handler import ProbeHandler
from healthprobe.http.messages import Request, Response

from ._endpoints import make_handler
from .management import ManagementListener, management_listener

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["HealthApp", "HealthMiddleware", "ProcessStart", "StartResponse", "WSGIApp"]


class StartResponse(Protocol):
    """The WSGI ``start_response`` callable (PEP 3333)."""

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None, /
    ) -> Callable[[bytes], object]: ...


Environ = dict[str, Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_WANTED = {"HTTP_ACCEPT": "accept", "HTTP_AUTHORIZATION": "authorization"}
_REASONS = {status.value: status.phrase for status in http.HTTPStatus}


class ProcessStart:
    """Start polling and mark started once per process, on the first request.

    Shared by the WSGI, Flask and Django integrations.  :meth:`ensure` is
    cheap after the first call (one ``os.getpid()`` comparison), thread-safe,
    and runs again in a forked child (a new pid), never in the parent before
    the fork unless the parent itself serves a request.
    """

    def __init__(
        self,
        health: Health,
        *,
        poll: bool = True,
        mark_started: bool = True,
        management: ManagementListener | None = None,
    ) -> None:
        self.health = health
        self.poll = poll
        self.mark_started = mark_started
        #: The listener of ``management_port=``, started here too (once per process).
        self.management = management
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The process this was last started in (None: not yet)."""
        return self._pid

    def ensure(self) -> None:
        """Make sure this process polls and is marked started (idempotent)."""
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._lock:
            if self._pid == pid:
                return
            if self.management is not None:
                self.management.start()
            if self.poll:
                self.health.start()
            if self.mark_started:
                self.health.lifecycle.mark_started()
            self._pid = pid


class HealthApp:
    """The probe endpoints as a standalone WSGI application.

    Keyword options are those of :class:`~healthprobe.http.handler.ProbeHandler`
    (``prefix``, ``paths``, ``details``, ``token``, ``authorize``,
    ``warn_status``, ``draining_status``...), plus ``poll`` (start background
    polling in each process on its first request), ``mark_started`` (mark
    the process started then) and ``management_port``, ``management_host``,
    ``management_reuse_port`` (a listener of its own; see the module's
    docstring).  Unknown paths answer 404.
    """

    def __init__(
        self,
        health: Health,
        *,
        poll: bool = True,
        mark_started: bool = True,
        management_port: int | None = None,
        management_host: str = "127.0.0.1",
        management_reuse_port: bool = False,
        **options: Any,
    ) -> None:
        self.handler, self.management, self.process = _parts(
            health,
            options,
            poll=poll,
            mark_started=mark_started,
            port=management_port,
            host=management_host,
            reuse_port=management_reuse_port,
        )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        self.process.ensure()
        return serve(self.handler, environ, local_path(environ), start_response)


class HealthMiddleware:
    """Answer the probe paths in front of ``app``; pass everything else to it.

    Options as for :class:`HealthApp`.
    """

    def __init__(
        self,
        app: WSGIApp,
        health: Health,
        *,
        poll: bool = True,
        mark_started: bool = True,
        management_port: int | None = None,
        management_host: str = "127.0.0.1",
        management_reuse_port: bool = False,
        **options: Any,
    ) -> None:
        self.app = app
        self.handler, self.management, self.process = _parts(
            health,
            options,
            poll=poll,
            mark_started=mark_started,
            port=management_port,
            host=management_host,
            reuse_port=management_reuse_port,
        )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        self.process.ensure()
        path = local_path(environ)
        if self.handler.match(path) is not None:
            return serve(self.handler, environ, path, start_response)
        return self.app(environ, start_response)


def local_path(environ: Mapping[str, Any]) -> str:
    """``PATH_INFO`` as text: WSGI hands it over as latin-1-decoded bytes (PEP 3333)."""
    raw: str = environ.get("PATH_INFO", "") or "/"
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:  # not UTF-8 after all: no probe path matches it anyway
        return raw


def wsgi_request(environ: Mapping[str, Any], path: str, *, all_headers: bool = False) -> Request:
    """The transport-independent request of a WSGI ``environ``.

    Only ``Accept`` and ``Authorization`` are read, unless ``all_headers``
    (a user's authorize callable may want any header).
    """
    headers: dict[str, str] = {}
    if all_headers:
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").lower()] = value
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                headers[key.replace("_", "-").lower()] = value
    else:
        for key, name in _WANTED.items():
            value = environ.get(key)
            if value is not None:
                headers[name] = value
    return Request(
        environ.get("REQUEST_METHOD", "GET"),
        path,
        environ.get("QUERY_STRING", ""),
        headers,
    )


def status_line(response: Response) -> str:
    """``"503 Service Unavailable"``: the status WSGI's ``start_response`` wants."""
    return f"{response.status} {_REASONS.get(response.status, '')}".rstrip()


def serve(
    handler: ProbeHandler, environ: Mapping[str, Any], path: str, start_response: StartResponse
) -> list[bytes]:
    """Answer one probe request through ``handler`` (never raises for a check's failure)."""
    request = wsgi_request(environ, path, all_headers=handler.policy.wants_all_headers)
    response = handler.handle(request)
    start_response(status_line(response), response.headers())
    return [] if response.head else [response.body]


def _parts(
    health: Health,
    options: dict[str, Any],
    *,
    poll: bool,
    mark_started: bool,
    port: int | None,
    host: str,
    reuse_port: bool,
) -> tuple[ProbeHandler, ManagementListener | None, ProcessStart]:
    """What both WSGI apps are made of: the handler, the management listener, the process start."""
    handler = make_handler(health, **options)
    management = management_listener(
        health, port, host=host, reuse_port=reuse_port, options=options
    )
    process = ProcessStart(health, poll=poll, mark_started=mark_started, management=management)
    return handler, management, process
