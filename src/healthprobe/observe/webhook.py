"""A webhook notifier: one JSON POST per status change, delivered off the probe's path.

Delivery never delays a probe: a change is put on a bounded queue (O(1),
never blocking) and a daemon worker thread posts it with the standard
library's ``urllib``, retrying with exponential backoff while the receiver is
down or answers 5xx/429 (a ``Retry-After`` on 429/503 sets the wait instead,
up to a cap).  One worker delivers in order, so a receiver sees ``failed``
before ``recovered``.  The URL is treated as a secret (Slack and most chat
webhooks carry their token in it): it never appears in a log line.

With a ``secret`` every delivery is signed as Standard Webhooks specifies
(https://www.standardwebhooks.com): ``webhook-id`` (the same on every retry
of one change), ``webhook-timestamp`` (Unix seconds of the attempt) and
``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of
``id.timestamp.body`` keyed with the secret's bytes).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import logging
import math
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from healthprobe._version import __version__
from healthprobe.engine.sanitize import describe_exception, sanitize

from .alerting import AlertPolicy, MaintenanceWindow, NetworkGuard
from .notify import Scope, StatusChange, StatusChanges

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["Template", "WebhookNotifier", "sign", "webhook_payload"]

logger = logging.getLogger("healthprobe")

_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: Statuses whose Retry-After header sets the wait before the next attempt.
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_STOP = object()

#: ``template(change) -> body``: any JSON-serializable payload shape.
Template = Callable[[StatusChange], Any]


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks ``webhook-signature`` value for one delivery."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _signing_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_...`` secret; the error never repeats the secret."""
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < 16:
        raise ValueError(
            "webhook secret must be 'whsec_' followed by the base64 of at least 16 random bytes"
        )
    return key


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()[:64]
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC, of unknown origin
        moment = moment.replace(tzinfo=dt.timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


def webhook_payload(
    change: StatusChange,
    *,
    style: Literal["json", "slack"] = "json",
    service: str | None = None,
    with_reasons: bool = True,
) -> dict[str, Any]:
    """The JSON body posted for ``change``.

    ``slack`` gives ``{"text": ...}``, which Slack, Mattermost, Rocket.Chat
    and Microsoft Teams' incoming webhooks all accept.  ``json`` gives the
    structured event (plus the same ``text``).  The reason is the engine's
    sanitized output; ``with_reasons=False`` leaves it out entirely.
    """
    prefix = f"[{sanitize(service, max_length=100)}] " if service else ""
    text = prefix + change.describe(with_reason=with_reasons)
    if style == "slack":
        return {"text": text}
    body: dict[str, Any] = {
        "id": uuid.uuid4().hex,  # receivers can drop a duplicate delivery by id
        "event": change.event,
        "scope": change.scope,
        "name": change.name,
        "status": change.current.value,
        "previous": None if change.previous is None else change.previous.value,
        "critical": change.critical,
        "time": change.time.isoformat(),
        "outage_seconds": change.outage_seconds,
        "reminder": change.reminder,
        "text": text,
    }
    if service:
        body["service"] = sanitize(service, max_length=100)
    if with_reasons and change.reason:
        body["reason"] = change.reason
    return body


@dataclasses.dataclass
class DeliveryStats:
    """Counters of a notifier's work, for tests and for the operator's curiosity."""

    queued: int = 0
    delivered: int = 0
    attempts: int = 0
    failed: int = 0  # gave up after the last attempt, or a 4xx answer
    dropped: int = 0  # the queue was full


class WebhookNotifier:
    """POST each status change to ``url`` as JSON, in the background, with retries.

    Parameters:
        url: an ``http://`` or ``https://`` URL (a secret: never logged).
        style: ``json`` (structured event) or ``slack`` (``{"text": ...}``).
        service: a name prefixed to the text (``[checkout] check db failed``).
        timeout: seconds per HTTP attempt.
        attempts: tries per change before it is given up (logged).
        backoff, max_backoff: the first retry waits ``backoff`` seconds, each
            next one twice as long, capped at ``max_backoff``.
        headers: extra request headers (an ``Authorization`` header, say).
        queue_size: changes waiting beyond this are dropped (and counted).
        with_reasons: include the check's sanitized reason.
        secret: a Standard Webhooks secret (``whsec_`` + base64 key): sign
            every delivery (``webhook-id``, ``webhook-timestamp``,
            ``webhook-signature``).  Never logged.
        template: ``template(change) -> body``, any JSON-serializable payload
            (Teams Workflows, PagerDuty Events v2: see
            :mod:`healthprobe.observe.webhook_templates`); replaces ``style``.
            A template that raises is logged and that change is skipped.
        max_retry_after: the longest ``Retry-After`` (seconds) honoured on a
            429 or 503; a longer one waits this long.
        notify_after, resolve_after, remind_every, maintenance, network_guard:
            noise control for this notifier only (probe answers never change);
            see :class:`~healthprobe.observe.alerting.AlertPolicy`.  Counting
            readings needs :meth:`attach`.

    Subscribe it with :meth:`attach` (or ``StatusChanges.of(health).subscribe``),
    and call :meth:`close` on shutdown to deliver what is queued.
    """

    def __init__(
        self,
        url: str,
        *,
        style: Literal["json", "slack"] = "json",
        service: str | None = None,
        timeout: float = 5.0,
        attempts: int = 8,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        headers: Mapping[str, str] | None = None,
        queue_size: int = 1000,
        with_reasons: bool = True,
        secret: str | None = None,
        template: Template | None = None,
        max_retry_after: float = 300.0,
        notify_after: int | dt.timedelta = 1,
        resolve_after: int | dt.timedelta = 1,
        remind_every: dt.timedelta | None = None,
        maintenance: Iterable[MaintenanceWindow] = (),
        network_guard: NetworkGuard | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("webhook url must be an absolute http:// or https:// URL")
        if style not in ("json", "slack"):
            raise ValueError(f"webhook style must be 'json' or 'slack', not {style!r}")
        if attempts < 1 or timeout <= 0 or backoff < 0 or max_backoff < backoff:
            raise ValueError(
                "webhook needs attempts >= 1, timeout > 0, 0 <= backoff <= max_backoff"
            )
        if not (max_retry_after >= 0 and math.isfinite(max_retry_after)):
            raise ValueError("webhook max_retry_after must be a finite number of seconds >= 0")
        if template is not None and not callable(template):
            raise ValueError("webhook template must be a callable: template(change) -> body")
        self._key = _signing_key(secret) if secret is not None else None
        #: Noise control, or None when every change is sent.
        self.policy: AlertPolicy | None = None
        windows = tuple(maintenance)
        if (notify_after, resolve_after, remind_every, windows, network_guard) != (
            1,
            1,
            None,
            (),
            None,
        ):
            self.policy = AlertPolicy(
                self._enqueue,
                notify_after=notify_after,
                resolve_after=resolve_after,
                remind_every=remind_every,
                maintenance=windows,
                network_guard=network_guard,
            )
        self.template = template
        self.max_retry_after = max_retry_after
        self._url = url
        self.style: Literal["json", "slack"] = style
        self.service = service
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": f"healthprobe/{__version__}",
            **(headers or {}),
        }
        self.with_reasons = with_reasons
        self.stats = DeliveryStats()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._abort = threading.Event()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Scrubbed from any error text we log: the URL and its host (a path of
        # one character would scrub every "/" and say nothing).
        self._secrets = tuple(
            s for s in (url, parsed.netloc, parsed.path, secret or "") if len(s) > 1
        )

    def attach(
        self, health: Health, *, scopes: tuple[Scope, ...] = ("check", "overall")
    ) -> WebhookNotifier:
        """Subscribe to ``health``'s status changes in ``scopes``; returns self."""
        if self.policy is not None:
            self.policy.attach(health, scopes=scopes)
        else:
            StatusChanges.of(health).subscribe(self, scopes=scopes)
        return self

    def __call__(self, change: StatusChange) -> None:
        """Queue ``change`` for delivery; never blocks (the subscriber entry point)."""
        if self.policy is not None:
            self.policy(change)
        else:
            self._enqueue(change)

    def _enqueue(self, change: StatusChange) -> None:
        try:
            body = self._payload(change)
        except Exception as exc:  # a user's template must not break the probe
            logger.error(
                "healthprobe: the webhook template failed: %s",
                describe_exception(exc, self._secrets),
            )
            return
        self._ensure_worker()
        try:
            self._queue.put_nowait(body)
        except queue.Full:
            self.stats.dropped += 1
            logger.warning(
                "healthprobe: webhook queue full, a %s notification dropped", change.event
            )
            return
        self.stats.queued += 1

    def _payload(self, change: StatusChange) -> object:
        if self.template is not None:
            return self.template(change)
        return webhook_payload(
            change, style=self.style, service=self.service, with_reasons=self.with_reasons
        )

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout`` seconds, then stop the worker."""
        if self.policy is not None:
            self.policy.close()
        worker = self._worker
        if worker is None:
            return
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)
        worker.join(timeout)
        if worker.is_alive():
            self._abort.set()  # cut the backoff waits short
            worker.join(self.timeout + 1.0)

    # -- the worker -----------------------------------------------------------------

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._abort.clear()
                self._worker = threading.Thread(
                    target=self._run, name="healthprobe:webhook", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        while True:
            body = self._queue.get()
            if body is _STOP:
                return
            self._deliver(body)

    def _deliver(self, body: object) -> None:
        data = json.dumps(body).encode()
        # One id per change, the same on every retry: receivers drop duplicates by it.
        message_id = f"msg_{uuid.uuid4().hex}"
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            self.stats.attempts += 1
            retry, problem, asked = self._post(data, message_id)
            if problem is None:
                self.stats.delivered += 1
                return
            wait = delay if asked is None else min(asked, self.max_retry_after)
            if not retry or attempt == self.attempts or self._abort.wait(wait):
                break
            delay = min(delay * 2, self.max_backoff)
        self.stats.failed += 1
        logger.warning(
            "healthprobe: webhook delivery failed after %d attempt(s): %s", attempt, problem
        )

    def _post(self, data: bytes, message_id: str) -> tuple[bool, str | None, float | None]:
        """One attempt: (worth retrying, problem or None when delivered, Retry-After)."""
        headers = dict(self._headers)
        if self._key is not None:
            stamp = int(time.time())
            headers["webhook-id"] = message_id
            headers["webhook-timestamp"] = str(stamp)
            headers["webhook-signature"] = sign(self._key, message_id, stamp, data)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self._url, data=data, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only, checked in __init__
                response.read()
        except urllib.error.HTTPError as exc:
            asked = None
            if exc.code in _RETRY_AFTER_STATUSES:
                asked = retry_after(exc.headers.get("Retry-After"))
            exc.close()
            return exc.code in _RETRY_STATUSES, f"HTTP {exc.code}", asked
        except (OSError, ValueError) as exc:  # refused, reset, timed out, bad answer
            return True, describe_exception(exc, self._secrets), None
        return False, None, None
