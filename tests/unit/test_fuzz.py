"""Fuzzing the pure decisions: the query parser, content negotiation, the result interpreter.

Bounded (a fixed number of derandomized examples each, no deadline on a shared machine),
run with the suite.  The properties are the contract, not the implementation: any
input is answered (never an exception, never a 500), an answer is one the docs list,
and nothing a check returns reads as a pass unless a documented pass shape says so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthprobe import CheckResult, Health, Status, interpret
from healthprobe.http.handler import ProbeHandler
from healthprobe.http.messages import Request
from healthprobe.http.query import FORMATS, negotiate, parse_query

BOUNDED = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# Query strings from the pieces the parser cares about, and anything at all.
QUERY_PIECES = st.sampled_from(
    [
        "verbose",
        "exclude",
        "format",
        "=",
        "&",
        ";",
        "%",
        "%2",
        "%zz",
        "%00",
        "%ff",
        "+",
        "json",
        "ietf",
        "text",
        "db",
        "é",
        "\x00",
        "=" * 3,
    ]
)
queries = st.one_of(st.text(max_size=200), st.lists(QUERY_PIECES, max_size=30).map("".join))
MEDIA = st.sampled_from(
    [
        "application/health+json",
        "application/json",
        "text/plain",
        "text/*",
        "application/*",
        "*/*",
        "text/html",
        "",
        ";",
        ",",
        "q=",
        ";q=0",
        ";q=0.5",
        ";q=1",
        ";q=nan",
        ";q=1e999",
        ";q=-1",
        ";q=x",
        " ",
        "\t",
    ]
)
accepts = st.one_of(st.text(max_size=200), st.lists(MEDIA, max_size=20).map("".join))


@BOUNDED
@given(query=queries)
def test_the_query_parser_answers_every_query(query: str) -> None:
    parsed = parse_query(query)
    if isinstance(parsed, str):
        assert parsed  # a reason, for the 400 body
        assert len(parsed) < 200  # a bad value is quoted short, never echoed whole
        return
    fmt, verbose, exclude = parsed
    assert fmt in ("", *FORMATS)
    assert isinstance(verbose, bool)
    assert all(isinstance(name, str) for name in exclude)  # "" is a name: no match, a warning


@BOUNDED
@given(accept=accepts)
def test_negotiation_always_picks_a_format_we_serve(accept: str) -> None:
    assert negotiate(accept) in FORMATS


# -- the handler: routing, query and negotiation together -------------------------------

PATHS = st.one_of(
    st.sampled_from(
        ["/livez", "/readyz", "/startupz", "/health", "/health/db", "/readyz/db", "/readyz/x"]
    ),
    st.text(max_size=40).map(lambda s: "/" + s),
)


@pytest.fixture(scope="module")
def handler() -> Iterator[ProbeHandler]:
    health = Health(version="1")

    async def db() -> CheckResult:
        return CheckResult.failed("db down")

    health.add(db, name="db", cache_ttl=60)  # one run: the fuzz is about the HTTP decisions
    health.add(lambda: True, name="x", critical=False, cache_ttl=60)
    health.lifecycle.mark_started()
    yield ProbeHandler(health, details="always")
    health.stop()


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "get", ""]),
    path=PATHS,
    query=queries,
    accept=accepts,
)
def test_the_handler_answers_every_request_without_a_500(
    handler: ProbeHandler, method: str, path: str, query: str, accept: str
) -> None:
    response = handler.handle(Request(method, path, query, {"accept": accept}))
    assert response.status in (200, 400, 404, 405, 503), response
    if response.status == 400:
        assert response.body  # a reason


# -- the interpreter: any value is a result, and a pass only by a documented shape -----

WORDS = st.sampled_from(
    ["ok", "pass", "up", "healthy", "fail", "down", "error", "warn", "degraded", "unknown", ""]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    WORDS,
    st.text(max_size=30),
    st.sampled_from(list(Status)),
    st.builds(CheckResult, st.sampled_from(list(Status)), st.text(max_size=20)),
    st.builds(ValueError, st.text(max_size=20)),
    st.just(dt.datetime(2026, 1, 1)),
)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.tuples(children, children),
        st.tuples(children, children, children),
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["status", "output", "error", "message", "n"]), children),
        st.fixed_dictionaries({"status": WORDS}, optional={"error": st.text(max_size=10)}),
    )


values = st.recursive(scalars, _extend, max_leaves=12)


def _may_pass(value: object) -> bool:
    """The documented pass shapes (docs/engine.md), written out independently."""
    if value is None or value is True or value is Status.PASS:
        return True
    if isinstance(value, CheckResult):
        return value.status is Status.PASS
    if isinstance(value, str):
        # docs/engine.md's table of status words, the pass row
        pass_words = ("pass", "passed", "passing", "ok", "up", "healthy", "success", "serving")
        return value.strip().lower() in pass_words
    if isinstance(value, dict):
        status = value.get("status", "pass")
        return isinstance(status, str) and _may_pass(status)
    if isinstance(value, tuple) and len(value) == 2:
        first = value[0]
        return isinstance(first, (bool, Status, str, dict, CheckResult)) and _may_pass(first)
    return False


@BOUNDED
@given(value=values)
def test_the_interpreter_reads_anything_and_never_passes_silently(value: object) -> None:
    result = interpret(value)
    assert isinstance(result, CheckResult)
    assert isinstance(result.status, Status)
    assert isinstance(result.output, str)
    if result.status is Status.PASS:
        assert _may_pass(value), (value, result)


def test_the_engine_runs_what_the_interpreter_reads() -> None:
    # One end-to-end example per shape family, through a real run.
    health = Health()
    shapes: dict[str, Any] = {"pair": ("down", "x"), "dict": {"status": "fail"}, "none": None}
    for name, shape in shapes.items():
        health.add(lambda shape=shape: shape, name=name)
    try:
        report = asyncio.run(health.arun())
    finally:
        health.stop()
    statuses = {name: check.status for name, check in report.checks.items()}
    assert statuses == {"pair": Status.FAIL, "dict": Status.FAIL, "none": Status.PASS}
