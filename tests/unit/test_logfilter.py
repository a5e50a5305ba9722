"""The access-log filter: probe requests of uvicorn and gunicorn are dropped, others kept."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from healthprobe import logfilter
from healthprobe.http.handler import DEFAULT_PATHS
from healthprobe.logfilter import ProbeAccessFilter


def uvicorn_record(path: str, status: int = 200) -> logging.LogRecord:
    # Exactly how uvicorn's protocols call the "uvicorn.access" logger.
    args: Any = ("127.0.0.1:50000", "GET", path, "1.1", status)
    return logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )


def gunicorn_record(path: str, status: str = "200") -> logging.LogRecord:
    # gunicorn >= 19.10: logger.info(access_log_format, safe_atoms), one mapping argument.
    atoms = {"h": "127.0.0.1", "r": f"GET {path} HTTP/1.1", "s": status, "U": path, "q": ""}
    return logging.getLogger("gunicorn.access").makeRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s', (atoms,), None
    )


def preformatted_record(path: str, status: int = 200) -> logging.LogRecord:
    message = f'127.0.0.1 - - [24/Nov/2026:19:00:00 +0000] "GET {path} HTTP/1.1" {status} 2'
    return logging.getLogger("gunicorn.access").makeRecord(
        "gunicorn.access", logging.INFO, __file__, 1, message, (), None
    )


MAKERS = [uvicorn_record, preformatted_record]


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("/livez", False),
        ("/live", False),
        ("/readyz", False),
        ("/ready", False),
        ("/startupz", False),
        ("/readyz/postgres", False),  # one check of a probe
        ("/livez?verbose", False),
        ("/health", True),  # the detailed report is read by people: keep it
        ("/livezz", True),
        ("/api/readyz", True),
        ("/", True),
    ],
)
@pytest.mark.parametrize("maker", [*MAKERS, gunicorn_record])
def test_probe_paths_are_dropped(path: str, kept: bool, maker: Any) -> None:
    if maker is gunicorn_record:
        path = path.partition("?")[0]  # gunicorn's U atom has no query
    assert ProbeAccessFilter().filter(maker(path)) is kept


def test_keep_failures_keeps_probe_errors_only() -> None:
    keep = ProbeAccessFilter(keep_failures=True)
    assert keep.filter(uvicorn_record("/readyz", 200)) is False
    assert keep.filter(uvicorn_record("/readyz", 503)) is True
    assert keep.filter(gunicorn_record("/readyz", "503")) is True
    assert keep.filter(preformatted_record("/livez", 500)) is True


def test_prefix_and_custom_paths() -> None:
    custom = ProbeAccessFilter(["/ping"], prefix="/_")
    assert custom.filter(uvicorn_record("/_/ping")) is False
    assert custom.filter(uvicorn_record("/ping")) is True
    assert custom.filter(uvicorn_record("/_/livez")) is True


def test_other_records_pass_untouched() -> None:
    record = logging.getLogger("uvicorn.error").makeRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (1,), None
    )
    assert ProbeAccessFilter().filter(record) is True


def test_default_paths_are_the_http_layers_probe_paths() -> None:
    assert set(logfilter.PROBE_PATHS) == set(DEFAULT_PATHS) - {"/health"}


@pytest.fixture
def clean_loggers() -> Iterator[None]:
    saved = {name: list(logging.getLogger(name).filters) for name in logfilter.ACCESS_LOGGERS}
    yield
    for name, filters in saved.items():
        logging.getLogger(name).filters[:] = filters


@pytest.mark.usefixtures("clean_loggers")
def test_install_is_one_idempotent_line(caplog: pytest.LogCaptureFixture) -> None:
    logfilter.install()
    installed = logfilter.install()  # a reloader imports the app twice
    for name in logfilter.ACCESS_LOGGERS:
        filters = logging.getLogger(name).filters
        assert [f for f in filters if isinstance(f, ProbeAccessFilter)] == [installed]
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/readyz", "1.1", 200)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/orders", "1.1", 200)
    assert [r.getMessage() for r in caplog.records] == ['127.0.0.1:1 - "GET /orders HTTP/1.1" 200']
