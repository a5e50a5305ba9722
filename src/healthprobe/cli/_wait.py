"""``healthprobe wait URL [URL ...]``: block until every URL answers healthy.

For CI/CD gates, post-deploy smoke checks and start ordering.  Each URL is
requested with the same single GET as ``healthprobe probe`` (2xx is
healthy; a redirect is not, unless ``--accept-redirects``); a URL that
failed is retried with exponential backoff (0.25 s, doubling, capped by
``--interval``) until it answers healthy once or the overall ``--timeout``
runs out.  On a terminal each URL has a live progress line, redrawn in
place; otherwise a plain line is printed whenever a URL's state changes,
which reads well in CI logs.  Exit 0 when every URL answered healthy, 1 at
the timeout, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from ._probe import ProbeError, Target, fetch_status, judge, parse_url, redact_url

__all__ = ["main"]

FIRST_DELAY = 0.25


@dataclasses.dataclass
class _Url:
    target: Target
    attempts: int = 0
    next_at: float = 0.0
    delay: float = FIRST_DELAY
    reason: str = "not tried yet"
    ready_after: float | None = None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="healthprobe wait",
        description="Block until every URL answers 2xx; exit 0, or 1 at --timeout.",
    )
    parser.add_argument("urls", nargs="+", metavar="URL", help="http:// or https:// URL")
    parser.add_argument(
        "--timeout", type=_seconds, default=120.0, help="give up after this (default 120 s)"
    )
    parser.add_argument(
        "--interval",
        type=_seconds,
        default=5.0,
        help="the longest pause between two attempts at one URL (default 5 s)",
    )
    parser.add_argument(
        "--request-timeout",
        type=_seconds,
        default=3.0,
        help="bound on one request (default 3 s)",
    )
    parser.add_argument(
        "-H", "--header", action="append", default=[], help="extra request header (repeatable)"
    )
    parser.add_argument("-k", "--insecure", action="store_true", help="https: skip verification")
    parser.add_argument(
        "--accept-redirects",
        action="store_true",
        help="kubelet's rule: a 3xx counts as healthy (not followed)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def main(argv: Sequence[str]) -> int:
    """Run ``healthprobe wait`` with ``argv`` (the arguments after ``wait``)."""
    parser = _parser()
    args = parser.parse_args(argv)
    urls: list[_Url] = []
    for raw in args.urls:
        try:
            urls.append(_Url(parse_url(raw)))
        except ProbeError as exc:
            # Never the raw argument: a malformed URL may still carry user:password@.
            parser.error(f"{redact_url(raw)}: {exc}")
    for header in args.header:
        name, colon, _ = header.partition(":")
        if not colon or not name.strip() or any(c in header for c in "\r\n"):
            parser.error("--header must look like 'Name: value' on one line")
    out: TextIO = sys.stdout
    if args.quiet:
        show: _Display = _Silent()
    elif out.isatty():
        show = _Live(out)
    else:
        show = _Plain(out)

    def attempt(target: Target, budget: float) -> str | None:
        """None when healthy, else the reason."""
        try:
            code, reason = fetch_status(
                target, timeout=budget, headers=args.header, verify=not args.insecure
            )
        except ProbeError as exc:
            return str(exc)
        return judge(code, reason, accept_redirects=args.accept_redirects)

    ok = wait(
        urls,
        timeout=args.timeout,
        interval=args.interval,
        request_timeout=args.request_timeout,
        attempt=attempt,
        show=show,
    )
    return 0 if ok else 1


def wait(
    urls: list[_Url],
    *,
    timeout: float,
    interval: float,
    request_timeout: float,
    attempt: Callable[[Target, float], str | None],
    show: _Display,
) -> bool:
    """Poll ``urls`` until all are healthy (True) or ``timeout`` passes (False).

    Bounded in time: no request outlives the deadline, and the loop ends at
    it.  URLs are tried one after the other in one thread, each on its own
    backoff schedule.
    """
    start = time.monotonic()
    deadline = start + timeout
    show.begin(urls)
    while True:
        now = time.monotonic()
        pending = [u for u in urls if u.ready_after is None]
        if not pending:
            show.end(urls, start, ok=True)
            return True
        if now >= deadline:
            show.end(urls, start, ok=False)
            return False
        for url in pending:
            now = time.monotonic()
            if url.next_at > now:
                continue
            budget = min(request_timeout, deadline - now)
            if budget <= 0:
                break
            url.attempts += 1
            reason = attempt(url.target, budget)
            now = time.monotonic()
            if reason is None:
                url.ready_after = now - start
            else:
                url.reason = reason
                url.next_at = now + url.delay
                url.delay = min(url.delay * 2, interval)
            show.update(url, now - start)
        upcoming = [u.next_at for u in urls if u.ready_after is None]
        if upcoming:
            pause = min(*upcoming, deadline) - time.monotonic()
            if pause > 0:
                time.sleep(pause)


class _Display:
    def begin(self, urls: list[_Url]) -> None:
        pass

    def update(self, url: _Url, elapsed: float) -> None:
        pass

    def end(self, urls: list[_Url], start: float, *, ok: bool) -> None:
        pass


class _Silent(_Display):
    pass


def _line(url: _Url, elapsed: float) -> str:
    if url.ready_after is not None:
        return f"ready    {url.target.shown} after {url.ready_after:.1f} s"
    tries = "attempt" if url.attempts == 1 else "attempts"
    return f"waiting  {url.target.shown} ({elapsed:.1f} s, {url.attempts} {tries}): {url.reason}"


class _Plain(_Display):
    """A line each time a URL's state or reason changes (CI logs)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._last: dict[int, str] = {}

    def update(self, url: _Url, elapsed: float) -> None:
        key = "ready" if url.ready_after is not None else url.reason
        if self._last.get(id(url)) == key:
            return
        self._last[id(url)] = key
        self._out.write(_line(url, elapsed) + "\n")
        self._out.flush()

    def end(self, urls: list[_Url], start: float, *, ok: bool) -> None:
        elapsed = time.monotonic() - start
        if ok:
            self._out.write(f"all {len(urls)} ready after {elapsed:.1f} s\n")
        else:
            for url in urls:
                if url.ready_after is None:
                    tries = "attempt" if url.attempts == 1 else "attempts"
                    self._out.write(
                        f"timed out after {elapsed:.1f} s: {url.target.shown} "
                        f"({url.attempts} {tries}): {url.reason}\n"
                    )
        self._out.flush()


class _Live(_Plain):
    """One line per URL, redrawn in place with ANSI cursor moves (terminals)."""

    def begin(self, urls: list[_Url]) -> None:
        self._urls = urls
        self._start = time.monotonic()
        for url in urls:
            self._out.write(_line(url, 0.0) + "\n")
        self._out.flush()

    def update(self, url: _Url, elapsed: float) -> None:
        # Move to the first URL line, rewrite every line (erasing what was there).
        self._out.write(f"\x1b[{len(self._urls)}F")
        for each in self._urls:
            self._out.write("\x1b[2K" + _line(each, elapsed) + "\n")
        self._out.flush()
