"""What a consumer reads is what the checks say (issue 13 points 1-3, 7, 8; issue 17 point 11).

Driven through the transport-independent handler with a real engine; the
integrations' own answers are compared in tests/integrations/test_request_table.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from healthprobe import CheckResult, Health
from healthprobe.http.handler import ProbeHandler
from healthprobe.http.messages import Request, Response

pytestmark = pytest.mark.timeout(30)

TOKEN = "truthful-token-0123456789"
SOFT_FAILS: dict[str, object] = {"result": (False, "smtp refused")}


@pytest.fixture
def health() -> Iterator[Health]:
    health = Health(version="1")
    health.add(lambda: True, name="db")
    health.add(lambda: SOFT_FAILS["result"], name="mail", critical=False)
    health.lifecycle.mark_started()
    yield health
    health.stop()


def get(handler: ProbeHandler, path: str, query: str = "", **headers: str) -> Response:
    return handler.handle(Request("GET", path, query, headers))


# -- point 1: a check's own path carries its own verdict ----------------------------------


@pytest.mark.parametrize("path", ["/readyz/mail", "/health/mail", "/ready/mail"])
def test_a_failing_non_critical_check_fails_its_own_path(health: Health, path: str) -> None:
    handler = ProbeHandler(health)
    assert get(handler, "/readyz").status == 200  # the probe is only degraded
    own = get(handler, path)
    assert own.status == 503
    assert json.loads(own.body)["status"] == "unhealthy"
    assert json.loads(own.body)["checks"]["mail"]["critical"] is False  # still said as it is
    text = get(handler, path, "verbose")
    trailer = path.split("/")[1].encode()
    assert (text.status, text.body) == (
        503,
        b"[-]mail failed: reason withheld\n" + trailer + b" check failed\n",
    )
    assert get(handler, path, "format=ietf").status == 503


def test_a_passing_or_warning_check_passes_its_own_path(health: Health) -> None:
    health.add(lambda: CheckResult.warned("slow"), name="slow", critical=False)
    handler = ProbeHandler(health)
    assert get(handler, "/readyz/db").status == 200
    assert get(handler, "/readyz/slow").status == 200


def test_an_unknown_non_critical_check_follows_the_probes_unknown_policy() -> None:
    health = Health(unknown_passes=("live",))
    health.add(
        lambda: CheckResult.unknown("no data"),
        name="feed",
        critical=False,
        probes=("ready", "live"),
    )
    try:
        handler = ProbeHandler(health)
        health.lifecycle.mark_started()
        assert get(handler, "/readyz").status == 200  # degraded
        assert get(handler, "/readyz/feed").status == 503
        assert get(handler, "/livez/feed").status == 200  # unknown passes liveness
    finally:
        health.stop()


# -- point 2: [-] only under "check failed" ------------------------------------------------


def test_a_failing_non_critical_check_is_a_plus_line_when_the_probe_passes(health: Health) -> None:
    handler = ProbeHandler(health, token=TOKEN)
    body = get(handler, "/readyz", "verbose").body
    assert b"[-]" not in body
    assert b"[+]mail warn: reason withheld\n" in body
    assert body.endswith(b"readyz check passed\n")
    authorized = get(handler, "/readyz", "verbose", authorization=f"Bearer {TOKEN}").body
    assert b"[+]mail warn: smtp refused\n" in authorized


def test_an_unknown_check_on_liveness_is_a_plus_line() -> None:
    health = Health()
    health.add(lambda: CheckResult.unknown("no data"), name="feed", probes=("live",))
    try:
        body = get(ProbeHandler(health), "/livez", "verbose")
        assert body.status == 200
        assert (
            body.body
            == b"[+]feed warn: reason withheld\n[+]lifecycle/live ok\nlivez check passed\n"
        )
    finally:
        health.stop()


def test_under_a_failing_probe_only_the_checks_that_fail_it_are_minus_lines(
    health: Health,
) -> None:
    health.lifecycle.begin_drain()
    body = get(ProbeHandler(health), "/readyz", "verbose").body
    assert body == (
        b"[+]db ok\n[+]mail warn: reason withheld\n[+]lifecycle/startup ok\n"
        b"[-]lifecycle/shutdown failed: reason withheld\n[+]lifecycle/ready ok\n"
        b"readyz check failed\n"
    )


# -- point 3: warn_status=429 and health+json ----------------------------------------------


def test_warn_status_429_never_applies_to_a_health_json_document(health: Health) -> None:
    handler = ProbeHandler(health, warn_status=429)
    assert get(handler, "/readyz").status == 429  # default JSON: Consul's warning
    assert get(handler, "/readyz", "verbose").status == 429
    ietf = get(handler, "/readyz", accept="application/health+json")
    assert (ietf.status, json.loads(ietf.body)["status"]) == (200, "warn")  # the draft: 2xx-3xx
    assert get(handler, "/readyz", "format=ietf").status == 200


# -- point 7: Kubernetes parity ------------------------------------------------------------


@pytest.mark.parametrize("query", ["exclude=", "exclude"])
def test_an_empty_exclude_gets_the_warning_line_not_a_400(health: Health, query: str) -> None:
    answer = get(ProbeHandler(health), "/readyz", f"verbose&{query}")
    assert answer.status == 200
    assert b'warn: some health checks cannot be excluded: no matches for ""\n' in answer.body


def test_exclude_on_a_single_check_path_is_ignored(health: Health) -> None:
    handler = ProbeHandler(health)
    assert get(handler, "/readyz/db", "exclude=db").status == 200
    assert get(handler, "/readyz/mail", "exclude=mail").status == 503


def test_non_ascii_names_are_quoted_as_go_does(health: Health) -> None:
    body = get(ProbeHandler(health), "/readyz", "verbose&exclude=caf%C3%A9&exclude=a%22b%0A").body
    assert 'no matches for "a\\"b\\n","café"\n'.encode() in body
    from healthprobe.http.render_text import go_quote

    assert go_quote("\x00\u200b\U000e0001") == '"\\x00\\u200b\\U000e0001"'


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/readyz/lifecycle/shutdown", 200),
        ("/readyz/lifecycle/startup", 200),
        ("/readyz/lifecycle/ready", 200),
        ("/livez/lifecycle/live", 200),
        ("/health/lifecycle/live", 200),
        ("/livez/lifecycle/shutdown", 404),  # not an entry of liveness
        ("/readyz/lifecycle/nope", 404),
    ],
)
def test_every_lifecycle_entry_listed_by_verbose_has_its_own_path(
    health: Health, path: str, code: int
) -> None:
    assert get(ProbeHandler(health), path).status == code


def test_a_lifecycle_entrys_path_follows_the_state(health: Health) -> None:
    handler = ProbeHandler(health)
    health.lifecycle.begin_drain()
    answer = get(handler, "/readyz/lifecycle/shutdown", "verbose")
    assert (answer.status, answer.body) == (
        503,
        b"[-]lifecycle/shutdown failed: reason withheld\nreadyz check failed\n",
    )
    assert get(handler, "/readyz/lifecycle/startup").status == 200


def test_negotiated_answers_carry_vary_accept(health: Health) -> None:
    handler = ProbeHandler(health)
    for answer in (
        get(handler, "/readyz"),
        get(handler, "/readyz", accept="application/health+json"),
        get(handler, "/readyz/mail", accept="text/plain"),
    ):
        assert ("vary", "Accept") in answer.headers()
    assert ("vary", "Accept") not in get(handler, "/readyz", "format=json").headers()


# -- point 4 (handler side): a trailing slash is the same path -------------------------------


@pytest.mark.parametrize(
    "path", ["/readyz/", "/livez/", "/health/", "/readyz/db/", "/metrics/", "/health/ui/"]
)
def test_a_trailing_slash_is_the_same_path(health: Health, path: str) -> None:
    from healthprobe.integrations._endpoints import make_handler

    handler = make_handler(health)
    with_slash, without = get(handler, path), get(handler, path[:-1])
    assert with_slash.status == without.status
    assert with_slash.status < 300 or with_slash.status == 503


# -- point 8: health+json details ------------------------------------------------------------


def test_health_json_observed_values_units_times_and_response_times() -> None:
    taken = dt.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=dt.timezone.utc)
    health = Health()
    health.add(lambda: CheckResult.passed(observed_value=12), name="queue")
    health.add(lambda: CheckResult.passed(observed_value=3.5, observed_unit="s"), name="lag")
    health.add(lambda: CheckResult.passed("cached", time=taken), name="feed")
    try:
        handler = ProbeHandler(health, details="always")
        health.lifecycle.mark_started()
        doc = json.loads(get(handler, "/readyz", "format=ietf").body)
        checks = doc["checks"]
        assert checks["queue"][0]["observedUnit"] == "1"  # a value never comes without a unit
        assert checks["lag"][0]["observedUnit"] == "s"
        assert checks["feed:responseTime"][0]["time"] == "2026-03-04T05:06:07.890Z"
        for key, entries in checks.items():
            for entry in entries:
                assert ("observedValue" in entry) == ("observedUnit" in entry), key
                if key.endswith(":responseTime"):
                    assert entry["observedValue"] is not None, key
        # The lifecycle entries have no latency: a status entry of their own, no responseTime.
        assert "lifecycle/shutdown:responseTime" not in checks
        assert checks["lifecycle/shutdown"][0]["status"] == "pass"
    finally:
        health.stop()


# -- issue 17 point 11: bearer scheme ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "full"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer {TOKEN}", True),
        (f"BEARER    {TOKEN}", True),
        (f"  Bearer {TOKEN}  ", True),
        (f"Bearer {TOKEN}x", False),
        (f"Basic {TOKEN}", False),
        (f"Bearer{TOKEN}", False),
        (TOKEN, False),
    ],
)
def test_the_bearer_scheme_is_case_insensitive_with_any_run_of_spaces(
    health: Health, value: str, full: bool
) -> None:
    body = get(ProbeHandler(health, token=TOKEN), "/readyz", "verbose", authorization=value).body
    assert (b"smtp refused" in body) is full


@pytest.mark.parametrize("query", ["exclude=%zz", "exclude=%", "exclude=%2", "verbose&%"])
def test_an_undecodable_percent_escape_is_a_400(health: Health, query: str) -> None:
    answer = get(ProbeHandler(health), "/readyz", query)
    assert answer.status == 400
    assert answer.body == b"bad request: the query string has an undecodable percent-escape\n"
