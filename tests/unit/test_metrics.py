"""Prometheus metrics: last known results only, well-formed, the same via prometheus-client."""

from __future__ import annotations

import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from healthprobe import CheckResult, Health
from healthprobe.integrations.prometheus import HealthCollector, register
from healthprobe.observability import History, MetricFamily, collect, render_metrics
from healthprobe.observe.metrics import render


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse an exposition with prometheus-client's parser: {(name, labels): value}.

    An empty label value is the same as no label to Prometheus, so it is dropped.
    """
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if v))
            out[(sample.name, labels)] = sample.value
    return out


def make_health() -> tuple[Health, dict[str, bool]]:
    health = Health(groups=["external"])
    state = {"db": True}

    def db() -> CheckResult:
        return CheckResult.passed() if state["db"] else CheckResult.failed("refused")

    health.add(db)
    health.add(lambda: True, name="cache", critical=False, probes=["ready", "external"])
    return health, state


@pytest.mark.asyncio
async def test_scrape_reports_last_results_and_never_runs_a_check() -> None:
    health, state = make_health()
    History.of(health)  # attach before the first reading, as the HTTP layer does
    before = time.time()
    await health.arun()
    state["db"] = False
    await health.arun()
    await health.arun()
    runs = health.executions("db")
    got = samples(render_metrics(health))
    assert health.executions("db") == runs  # the scrape ran nothing
    assert got[("healthprobe_check_status", (("check", "db"), ("status", "fail")))] == 1
    assert got[("healthprobe_check_status", (("check", "db"), ("status", "pass")))] == 0
    assert got[("healthprobe_check_status", (("check", "cache"), ("status", "pass")))] == 1
    assert got[("healthprobe_check_failures_total", (("check", "db"),))] == 2
    assert got[("healthprobe_check_failures_total", (("check", "cache"),))] == 0
    last_ok = got[("healthprobe_check_last_success_timestamp_seconds", (("check", "db"),))]
    assert before - 1 <= last_ok <= time.time() + 1
    duration = got[("healthprobe_check_duration_seconds", (("check", "db"),))]
    assert 0 < duration < 5
    assert got[("healthprobe_probe_status", (("probe", "ready"), ("status", "fail")))] == 1
    assert got[("healthprobe_probe_up", (("probe", "ready"),))] == 0
    assert got[("healthprobe_probe_up", (("probe", "live"),))] == 1  # liveness has no checks
    assert got[("healthprobe_probe_status", (("probe", "external"), ("status", "pass")))] == 1


def test_before_any_reading_every_check_is_unknown_and_has_no_duration() -> None:
    health, _ = make_health()
    text = render_metrics(health)
    got = samples(text)
    assert got[("healthprobe_check_status", (("check", "db"), ("status", "unknown")))] == 1
    assert "healthprobe_check_duration_seconds{" not in text
    assert "healthprobe_check_last_success_timestamp_seconds{" not in text
    assert got[("healthprobe_probe_up", (("probe", "ready"),))] == 0  # unknown is not ready
    assert got[("healthprobe_probe_up", (("probe", "live"),))] == 1


@pytest.mark.asyncio
async def test_probe_metrics_follow_the_lifecycle_like_the_endpoints() -> None:
    health, _ = make_health()
    await health.arun()
    key = ("healthprobe_probe_up", (("probe", "ready"),))
    assert samples(render_metrics(health))[key] == 0  # startup has not finished
    health.lifecycle.mark_started()
    assert samples(render_metrics(health))[key] == 1
    health.lifecycle.begin_drain()
    assert samples(render_metrics(health))[key] == 0
    live = ("healthprobe_probe_up", (("probe", "live"),))
    assert samples(render_metrics(health))[live] == 1


def test_each_family_has_help_and_type_once_and_counters_end_in_total() -> None:
    health, _ = make_health()
    text = render_metrics(health)
    lines = text.splitlines()
    assert text.endswith("\n")
    for family in collect(health):
        kind = "gauge" if family.kind == "info" else family.kind  # 0.0.4 has no info type
        assert lines.count(f"# TYPE {family.name} {kind}") == 1
        assert sum(line.startswith(f"# HELP {family.name} ") for line in lines) == 1
        if family.kind == "counter":
            assert family.name.endswith("_total")
    # each check carries exactly one current status
    for check in ("db", "cache"):
        current = [
            v
            for (name, labels), v in samples(text).items()
            if name == "healthprobe_check_status" and ("check", check) in labels
        ]
        assert sorted(current) == [0, 0, 0, 1]


def test_label_values_and_help_are_escaped() -> None:
    family = MetricFamily(
        "x_info", "gauge", 'help with \\ and\nnewline "quoted"', ("l",), ((('a"b\\c\nd',), 1.5),)
    )
    text = render([family])
    assert text.splitlines() == [
        '# HELP x_info help with \\\\ and\\nnewline "quoted"',
        "# TYPE x_info gauge",
        'x_info{l="a\\"b\\\\c\\nd"} 1.5',
    ]
    parsed = next(iter(text_string_to_metric_families(text)))
    assert parsed.samples[0].labels == {"l": 'a"b\\c\nd'}


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1"), (0.0, "0"), (0.25, "0.25"), (float("nan"), "NaN"), (float("inf"), "+Inf")],
)
def test_values_are_formatted_for_prometheus(value: float, text: str) -> None:
    family = MetricFamily("x", "gauge", "h", (), (((), value),))
    assert render([family]).splitlines()[-1] == f"x{{}} {text}"


@pytest.mark.asyncio
async def test_prometheus_client_collector_exports_the_same_samples() -> None:
    health, state = make_health()
    History.of(health)
    await health.arun()
    state["db"] = False
    await health.arun()
    registry = CollectorRegistry()
    collector = register(health, registry=registry)
    assert isinstance(collector, HealthCollector)
    ours = samples(render_metrics(health))
    theirs = samples(generate_latest(registry).decode())
    # prometheus-client adds a `_created` sample to counters; everything else is equal.
    theirs = {k: v for k, v in theirs.items() if not k[0].endswith("_created")}
    assert theirs == ours
    with pytest.raises(ValueError, match="Duplicated"):
        register(health, registry=registry)
