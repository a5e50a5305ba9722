"""A probe server without a web framework: its own thread, its own event loop, stdlib only.

::

    import healthprobe

    server = healthprobe.serve_in_thread(health, port=8081, host="0.0.0.0")
    ...                    # the worker's own main loop
    server.close()         # or `with healthprobe.serve_in_thread(...):`, or leave it to atexit

It serves the very endpoints every integration serves (the probes,
``/metrics`` and ``/health/ui``, through
:func:`~healthprobe.integrations._endpoints.make_handler`), from an
``asyncio`` server on a daemon thread of its own.  Nothing the rest of the
process does with its event loop (or the lack of one) delays an answer, so
it is both the probe server of processes that are not web servers (Celery,
RQ and arq workers, consumers, schedulers) and the *management listener*
of web apps (``management_port=`` of the ASGI and WSGI middleware), which
keeps answering while the app's own loop is saturated.

Two ways to run it
------------------
* **It owns the process's health** (``lifecycle=True``, the default of
  :func:`serve_in_thread`): it starts polling the checks on its loop,
  marks the process started (``mark_started``), fails readiness at once on
  SIGTERM, keeps serving ``drain`` seconds, then hands the signal to the
  handler that was there before (the worker's own warm shutdown, or the
  default action: exit), and stops polling when closed.  SIGTERM is only
  watched when ``drain`` is not None and the call is made from the main
  thread (only the main thread may set signal handlers).
* **It serves a health owned by an app** (``lifecycle=False``, used by the
  management listener): the app's lifespan polls, marks started and drains
  (readiness reads 503 here too, from the same ``Health``); this server only
  answers, from its own loop.

Checks run on request (no ``interval``) run on this server's loop: a check
whose client is bound to another loop (an asyncpg pool created in the app's
lifespan) must be polled (``interval=``) to be served from here.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import math
import os
import signal
import threading
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from healthprobe.engine.errors import ConfigurationError
from healthprobe.http.serve import drain_then_wait_for_work

from ._endpoints import make_handler
from ._http1 import Limits, serve_connection

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.http.handler import ProbeHandler
    from healthprobe.http.messages import Request, Response

__all__ = ["ProbeServer", "serve_in_thread"]

_START_TIMEOUT = 10.0


def serve_in_thread(
    health: Health,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    lifecycle: bool = True,
    mark_started: bool = True,
    drain: float | None = 5.0,
    drain_max: float = 25.0,
    reuse_port: bool = False,
    limits: Limits | None = None,
    **options: Any,
) -> ProbeServer:
    """Serve ``health``'s probe endpoints on ``host:port`` from a thread of their own.

    Returns once the socket listens (``server.port`` is the bound port, the
    one picked when ``port=0``).  ``host="0.0.0.0"`` (or ``"::"``) for an
    orchestrator's probes, which come from outside the pod's loopback.
    ``options`` are those of every integration (``prefix``, ``paths``,
    ``details``, ``token``, ``metrics_path``, ``ui_path``...).  ``lifecycle``,
    ``mark_started`` and ``drain``: see the module's docstring.  ``drain_max``:
    while work is in flight (``health.lifecycle.work()``), the SIGTERM drain
    goes on past ``drain`` until the work is done, for at most this long.
    ``reuse_port``: let several processes (workers) listen on the same port
    (``SO_REUSEPORT``, Linux and BSD).

    Raises ``ConfigurationError`` for a bad option, and ``OSError`` (errno
    kept) whose message names ``host:port`` and the cause when the socket
    cannot be bound.  The server closes at interpreter exit if not before.
    """
    server = ProbeServer(
        health,
        port=port,
        host=host,
        lifecycle=lifecycle,
        mark_started=mark_started,
        drain=drain,
        drain_max=drain_max,
        reuse_port=reuse_port,
        limits=limits,
        **options,
    )
    server.start()
    return server


class ProbeServer:
    """The probe listener on its own thread and loop; :meth:`start` it, :meth:`close` it."""

    def __init__(
        self,
        health: Health,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        lifecycle: bool = True,
        mark_started: bool = True,
        drain: float | None = 5.0,
        drain_max: float = 25.0,
        reuse_port: bool = False,
        limits: Limits | None = None,
        **options: Any,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"port must be an integer from 0 to 65535, not {port!r}")
        if not isinstance(host, str) or not host:
            raise ConfigurationError(f"host must be a non-empty string, not {host!r}")
        if drain is not None and (
            isinstance(drain, bool)
            or not isinstance(drain, (int, float))
            or drain < 0
            or math.isinf(drain)
        ):
            raise ConfigurationError(
                f"drain must be None or a number of seconds >= 0, not {drain!r}"
            )
        if (
            isinstance(drain_max, bool)
            or not isinstance(drain_max, (int, float))
            or not 0 <= drain_max < math.inf
        ):
            raise ConfigurationError(
                f"drain_max must be a number of seconds >= 0, not {drain_max!r}"
            )
        self.health = health
        self.host = host
        self.requested_port = port
        self.port = port
        self.handler: ProbeHandler = make_handler(health, **options)
        self.lifecycle = lifecycle
        self.mark_started = mark_started
        self.drain = drain
        self.drain_max = float(drain_max)
        self.reuse_port = reuse_port
        self.limits = limits or Limits()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._closing = False
        self._lock = threading.Lock()
        self._signals = _SignalDrain(self) if lifecycle and drain is not None else None

    # -- public surface ------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port`` of the listener (IPv6 hosts bracketed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`close`."""
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._closing

    def start(self) -> None:
        """Bind and start serving; returns once the socket listens (idempotent)."""
        with self._lock:
            if self.running:
                return
            self._closing = False
            outcome: list[BaseException | None] = []
            ready = threading.Event()
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=self._main,
                args=(loop, ready, outcome),
                name=f"healthprobe-server:{self.requested_port}",
                daemon=True,
            )
            thread.start()
            if not ready.wait(_START_TIMEOUT):
                raise OSError(f"healthprobe: the probe server on {self._where()} did not start")
            error = outcome[0] if outcome else None
            if error is not None:
                thread.join(_START_TIMEOUT)
                raise error
            self._loop, self._thread = loop, thread
            atexit.register(self.close)
            if self._signals is not None:
                self._signals.install()

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, finish the requests in hand, stop polling (if owned), end the thread.

        Idempotent; safe from any thread but the server's own.
        """
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None or self._closing:
                return
            self._closing = True
            atexit.unregister(self.close)
            if self._signals is not None:
                self._signals.uninstall()
        if threading.current_thread() is thread:
            raise RuntimeError("ProbeServer.close() cannot be called from the server's own thread")
        if thread.is_alive() and not loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(self._ashutdown(timeout), loop)
            with contextlib.suppress(Exception):
                future.result(timeout + 1.0)
            with contextlib.suppress(RuntimeError):  # closed in the meantime
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout + 1.0)

    def __enter__(self) -> ProbeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the server's thread -------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.host}:{self.requested_port}"

    def _main(
        self,
        loop: asyncio.AbstractEventLoop,
        ready: threading.Event,
        outcome: list[BaseException | None],
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._astart())
        except BaseException as exc:
            outcome.append(exc)
            ready.set()
            loop.close()
            return
        outcome.append(None)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _astart(self) -> None:
        limit = max(self.limits.request_line, self.limits.header_line) + 2
        try:
            self._server = await asyncio.start_server(
                self._on_connection,
                self.host,
                self.requested_port,
                limit=limit,
                reuse_port=self.reuse_port or None,
                backlog=128,
            )
        except OSError as exc:
            # asyncio's own message repeats the address; the errno says it all.
            cause = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else None
            cause = cause or exc.strerror or str(exc)
            raise OSError(
                exc.errno, f"healthprobe cannot listen on {self._where()}: {cause}"
            ) from None
        sockets = self._server.sockets
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        if self.lifecycle:
            await self.health.astart()
            self.health.lifecycle.end_drain()  # a server started again serves again
            if self.mark_started:
                self.health.lifecycle.mark_started()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None  # a connection callback runs in a task
        self._connections.add(task)
        try:
            await serve_connection(
                reader,
                writer,
                self._answer,
                self.limits,
                all_headers=self.handler.policy.wants_all_headers,
                closing=lambda: self._closing,
            )
        finally:
            self._connections.discard(task)

    async def _answer(self, request: Request) -> Response:
        return await self.handler.ahandle(request)

    async def _ashutdown(self, timeout: float) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        # Requests in hand get up to `timeout` to finish; idle connections end now.
        pending = set(self._connections)
        if pending:
            _, late = await asyncio.wait(pending, timeout=min(timeout, 1.0))
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout)
        if self.lifecycle:
            self.health.lifecycle.begin_drain()
            await self.health.astop()


class _SignalDrain:
    """SIGTERM: readiness fails at once, ``drain`` seconds of serving, then the old handler.

    Work in flight (``health.lifecycle.work()``) holds the hand-over past
    ``drain`` until it is done, up to ``drain_max`` in all, as in the ASGI
    lifespan (``http.serve.drain_then_wait_for_work``).

    The handler runs in the main thread; the wait runs on the server's loop,
    and the hand-over goes back to the main thread by signalling it again
    (only the main thread may call the previous handler's ``signal`` APIs).
    A second SIGTERM during the drain hands over at once.
    """

    def __init__(self, server: ProbeServer) -> None:
        self.server = server
        self._previous: Any = None
        self._installed = False
        self._signalled = False
        self._handing_over = False
        self._task: asyncio.Task[None] | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._on_signal)
        self._installed = True

    def uninstall(self) -> None:
        if not self._installed or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) == self._on_signal:
            signal.signal(signal.SIGTERM, self._previous)
        self._installed = False

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        loop = self.server._loop
        if self._signalled or self._handing_over or loop is None or loop.is_closed():
            self._hand_over(signum, frame)
            return
        self._signalled = True
        self.server.health.lifecycle.begin_drain()
        try:
            loop.call_soon_threadsafe(self._start_drain, signum)
        except RuntimeError:  # the loop closed in the meantime
            self._hand_over(signum, frame)

    def _start_drain(self, signum: int) -> None:
        task = asyncio.get_running_loop().create_task(self._drain(signum))
        self._task = task  # a reference until it is done

    async def _drain(self, signum: int) -> None:
        server = self.server
        await drain_then_wait_for_work(server.health, server.drain or 0.0, server.drain_max)
        self._drained(signum)

    def _drained(self, signum: int) -> None:
        self._handing_over = True
        main = threading.main_thread().ident
        if main is not None:
            signal.pthread_kill(main, signum)  # back to _on_signal, in the main thread

    def _hand_over(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous
        self.uninstall()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        # SIG_IGN (or None: a handler set from C): nothing to hand over to.
