"""Prometheus: a PromQL expression as a check (an instant query, thresholds on its value).

For health that only the metrics know: an error ratio, a queue's age, how
many replicas of a dependency are ``up``.  The check asks Prometheus's HTTP
API (``GET /api/v1/query``) over one kept ``httpx.AsyncClient`` and grades
the answer's value:

* ``warn_above`` / ``fail_above``: a value at or above trips it;
* ``warn_below`` / ``fail_below``: a value below trips it;
* several series: each is graded and the worst one is reported (its value is
  the observed value, its labels are in details);
* no series, or a value that is not a number (``NaN``: an error ratio with
  no traffic): ``on_empty`` decides (default ``"fail"``: the metric vanished);
* a query Prometheus rejects, or a range vector, fails with its reason.

``timeout`` bounds the HTTP request and is sent as the query's own
``timeout``, so Prometheus gives up on an expensive query at the same time.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

from ._dsn import dsn_secrets
from ._levels import grade, option, thresholds, timeout_option

if TYPE_CHECKING:
    import httpx

__all__ = ["PrometheusQueryCheck"]

_SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|session|password", re.IGNORECASE)
_EMPTY = {"pass": Status.PASS, "warn": Status.WARN, "fail": Status.FAIL, "unknown": Status.UNKNOWN}
#: At most this much of an answer is read (a health query answers in a few hundred bytes).
MAX_BODY = 1024 * 1024


class PrometheusQueryCheck:
    """Run ``query`` on the Prometheus at ``url`` and grade its value (see the module doc).

    ``url`` is the server's base URL (``http://prometheus:9090``, with a path
    prefix if it has one); credentials in it are sent as Basic auth and kept
    out of every output, as are the values of credential ``headers``.
    ``client`` is your own ``httpx.AsyncClient`` to use instead of the check's.
    """

    component_type = "component"

    def __init__(
        self,
        url: str,
        query: str,
        *,
        name: str = "prometheus_query",
        timeout: float = 2.0,
        warn_above: float | None = None,
        fail_above: float | None = None,
        warn_below: float | None = None,
        fail_below: float | None = None,
        on_empty: Literal["pass", "warn", "fail", "unknown"] = "fail",
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._httpx = require("httpx", "http")
        self.name = name
        self.timeout = timeout_option(name, timeout)
        if not isinstance(query, str) or not query.strip():
            raise ConfigurationError(f"check {name!r}: query must be a PromQL expression")
        self.query = query
        bounds = {
            key: option(name, key, value, low=None)
            for key, value in (
                ("warn_above", warn_above),
                ("fail_above", fail_above),
                ("warn_below", warn_below),
                ("fail_below", fail_below),
            )
        }
        self.warn_above, self.fail_above = bounds["warn_above"], bounds["fail_above"]
        self.warn_below, self.fail_below = bounds["warn_below"], bounds["fail_below"]
        thresholds(
            name,
            ("warn_above", self.warn_above),
            ("fail_above", self.fail_above),
            higher_is_worse=True,
        )
        thresholds(
            name,
            ("warn_below", self.warn_below),
            ("fail_below", self.fail_below),
            higher_is_worse=False,
        )
        if on_empty not in _EMPTY:
            raise ConfigurationError(
                f"check {name!r}: on_empty must be one of {', '.join(_EMPTY)}, not {on_empty!r}"
            )
        self.on_empty = on_empty
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # Never echo the value: it may carry a password.
            raise ConfigurationError(f"check {name!r}: the URL must be http:// or https://")
        self._auth: tuple[str, str] | None = None
        if parts.username is not None or parts.password is not None:
            self._auth = (
                urllib.parse.unquote(parts.username or ""),
                urllib.parse.unquote(parts.password or ""),
            )
            parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        base = urllib.parse.urlunsplit(parts._replace(query="", fragment=""))
        self._endpoint = base.rstrip("/") + "/api/v1/query"
        self._headers = dict(headers or {})
        self._client = client
        self._owned = client is None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Declared to the engine, which scrubs them from every output.
        self.secrets = (
            *dsn_secrets(url),
            *(v for k, v in self._headers.items() if _SECRET_HEADER.search(k) and v),
        )

    def __repr__(self) -> str:
        return f"<PrometheusQueryCheck {self.name!r} {self.query!r}>"

    async def acheck(self) -> CheckResult:
        """One instant query; the result follows the rules in the module docstring."""
        client = self._client
        loop = asyncio.get_running_loop()
        if self._owned and self._loop is not loop:
            # A client made on another (finished) event loop can be neither used nor closed here.
            client = None
        if client is None:
            client = self._httpx.AsyncClient(
                timeout=self._httpx.Timeout(self.timeout),
                follow_redirects=False,
                trust_env=False,  # a probe goes straight to its target
            )
            self._client, self._loop = client, loop
        auth = self._httpx.BasicAuth(*self._auth) if self._auth else self._httpx.USE_CLIENT_DEFAULT
        # Plain seconds: Prometheus reads "0.5" but rejects "0.5s" (durations are integral).
        params = {"query": self.query, "timeout": f"{self.timeout:g}"}
        async with client.stream(
            "GET", self._endpoint, params=params, headers=self._headers, auth=auth
        ) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= MAX_BODY:
                    break
            status_code = response.status_code
        return self.judge(status_code, bytes(body))

    async def aclose(self) -> None:
        """Close the client this check created (a client you passed stays open)."""
        if self._owned and self._client is not None:
            client, self._client = self._client, None
            if self._loop is asyncio.get_running_loop():
                await client.aclose()

    def judge(self, status_code: int, body: bytes) -> CheckResult:
        """The result for one answer of the query API (pure: no I/O)."""
        details: dict[str, Any] = {"http_status": status_code}
        try:
            document = json.loads(body)
            outcome = document["status"]
        except (ValueError, KeyError, TypeError):
            return CheckResult.failed(
                f"HTTP {status_code}: not an answer of the Prometheus query API", details=details
            )
        if outcome != "success":
            kind = document.get("errorType") or "error"
            reason = document.get("error") or ""
            return CheckResult.failed(f"Prometheus: {kind}: {reason}".rstrip(": "), details=details)
        data = document.get("data") or {}
        kind = data.get("resultType")
        details["result_type"] = kind
        samples: list[tuple[dict[str, str], float]] = []
        if kind == "scalar":
            samples = [({}, _number(data.get("result")))]
        elif kind == "vector":
            samples = [
                (dict(item.get("metric") or {}), _number(item.get("value")))
                for item in data.get("result") or []
            ]
        else:
            return CheckResult.failed(
                f"the query returned a {kind}, not an instant vector or a scalar", details=details
            )
        details["series"] = len(samples)
        numbers = [(labels, value) for labels, value in samples if not math.isnan(value)]
        if not numbers:
            what = "no series" if not samples else "no number (NaN)"
            return CheckResult(_EMPTY[self.on_empty], f"the query returned {what}", details=details)
        graded = [(self._grade(value), value, labels) for labels, value in numbers]
        # The worst series decides; among equals, the one furthest out.
        status, value, labels = max(graded, key=lambda g: (g[0].severity, abs(g[1])))
        details["labels"] = labels
        text = f"value {value:g}"
        if status is not Status.PASS:
            text += f" ({self._reason(status, value)})"
        return CheckResult(status, text, details=details, observed_value=value)

    def _grade(self, value: float) -> Status:
        above = grade(value, self.warn_above, self.fail_above, higher_is_worse=True)
        below = grade(value, self.warn_below, self.fail_below, higher_is_worse=False)
        return max(above, below, key=lambda s: s.severity)

    def _reason(self, status: Status, value: float) -> str:
        fail = status is Status.FAIL
        above = self.fail_above if fail else self.warn_above
        below = self.fail_below if fail else self.warn_below
        if above is not None and value >= above:
            return f"{status.value} at {above:g} or above"
        return f"{status.value} below {below:g}"


def _number(pair: object) -> float:
    """A sample's value: ``[timestamp, "text"]`` as Prometheus writes it."""
    try:
        return float(pair[1])  # type: ignore[index]  # a [time, "value"] pair
    except (TypeError, ValueError, IndexError):
        return math.nan
