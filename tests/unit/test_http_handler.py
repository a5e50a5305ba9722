"""The transport-independent handler, driven without any server (the future WSGI path)."""

from __future__ import annotations

import pytest

from healthprobe import Health
from healthprobe.http.handler import ProbeHandler
from healthprobe.http.messages import Request
from healthprobe.http.query import negotiate, parse_query

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    ("query", "parsed"),
    [
        ("verbose", ("", True, ())),
        ("verbose=0", ("", True, ())),  # presence counts, as in Kubernetes
        ("exclude=a&exclude=b&format=ietf", ("ietf", False, ("a", "b"))),
        ("exclude=a%2Fb", ("", False, ("a/b",))),
        ("_=1700000000", ("", False, ())),
        ("format=yaml", "format must be one of json, ietf, text, not 'yaml'"),
        ("exclude", ("", False, ("",))),  # kube-apiserver: a warning line, not a 400
        ("exclude=", ("", False, ("",))),
        ("exclude=%zz", "the query string has an undecodable percent-escape"),
        ("exclude=%", "the query string has an undecodable percent-escape"),
        ("exclude=%2", "the query string has an undecodable percent-escape"),
        ("exclude=a%", "the query string has an undecodable percent-escape"),
        ("exclude=%25zz", ("", False, ("%zz",))),
        ("exclude=%C3%28", "the query string is malformed"),
        ("&".join(["a=1"] * 100), "the query string is malformed"),
    ],
)
def test_parse_query(query: str, parsed: object) -> None:
    assert parse_query(query) == parsed


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("", "json"),
        ("*/*", "json"),
        ("application/health+json", "ietf"),
        ("Application/Health+JSON; charset=utf-8", "ietf"),
        ("text/plain;q=0.9, application/json;q=0.8", "text"),
        ("application/health+json;q=0, application/json", "json"),
        ("application/health+json;q=bogus", "json"),
        ("image/png", "json"),
    ],
)
def test_negotiate(accept: str, fmt: str) -> None:
    assert negotiate(accept) == fmt


def test_the_sync_twin_answers_like_the_async_one() -> None:
    health = Health(version="2")

    @health.check
    def db() -> bool:
        return True

    handler = ProbeHandler(health)
    try:
        assert handler.handle(Request("GET", "/readyz")).status == 503  # not started yet
        health.lifecycle.mark_started()
        ok = handler.handle(Request("GET", "/readyz", "verbose"))
        assert (ok.status, ok.body) == (
            200,
            b"[+]db ok\n[+]lifecycle/startup ok\n[+]lifecycle/shutdown ok\n"
            b"[+]lifecycle/ready ok\nreadyz check passed\n",
        )
        assert handler.handle(Request("GET", "/readyz/nope")).status == 404
        assert handler.handle(Request("DELETE", "/readyz")).status == 405
        assert handler.handle(Request("GET", "/elsewhere")).status == 404
        head = handler.handle(Request("HEAD", "/health", "format=ietf"))
        assert head.head
        assert dict(head.headers())["content-length"] == str(len(head.body))
    finally:
        health.stop()


@pytest.mark.parametrize(
    "options",
    [
        {"warn_status": 500},
        {"draining_status": 302},  # never a 3xx: kubelet counts it as success
        {"prefix": "readyz"},
        {"paths": {"/readyz/": "ready"}},
        {"paths": {"/nightly": "nightly"}},
        {"details": "sometimes"},
        {"token": "short"},
    ],
)
def test_bad_configuration_fails_at_construction(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        ProbeHandler(Health(), **options)  # type: ignore[arg-type]  # deliberately wrong values
