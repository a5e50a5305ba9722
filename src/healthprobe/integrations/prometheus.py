"""healthprobe's metrics through prometheus-client (extra ``prometheus``).

Registers a custom collector that turns the same metric families as the
dependency-free ``/metrics`` exposition (see ``healthprobe.observe.metrics``) into
prometheus-client metric families at scrape time, from the last known
results: a scrape never runs a check.  Use it when the application already
exposes a prometheus-client registry::

    from healthprobe.integrations.prometheus import register

    register(health)                      # into prometheus_client.REGISTRY
    register(health, registry=my_registry)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.observe.history import History
from healthprobe.observe.metrics import collect

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from healthprobe.engine.health import Health

__all__ = ["HealthCollector", "register"]


class HealthCollector:
    """A prometheus-client collector of ``health``'s last known state."""

    def __init__(
        self,
        health: Health,
        history: History | None = None,
        *,
        release_id: str | None = None,
        service_id: str | None = None,
    ) -> None:
        self._core = require("prometheus_client.core", "prometheus")
        self._health = health
        self._history = history if history is not None else History.of(health)
        self._info = {"release_id": release_id, "service_id": service_id}

    def collect(self) -> Iterator[Any]:
        """Yield one prometheus-client metric family per healthprobe family."""
        return self._families(with_samples=True)

    def describe(self) -> Iterator[Any]:
        """The same families without samples: lets a registry refuse a duplicate."""
        return self._families(with_samples=False)

    def _families(self, *, with_samples: bool) -> Iterator[Any]:
        core = self._core
        for family in collect(self._health, self._history, info=self._info):
            if family.kind == "info":  # prometheus-client adds the _info suffix itself
                info = core.InfoMetricFamily(family.name.removesuffix("_info"), family.help)
                if with_samples:
                    for values, _ in family.samples:
                        info.add_metric([], dict(zip(family.labels, values, strict=True)))
                yield info
                continue
            kind = core.CounterMetricFamily if family.kind == "counter" else core.GaugeMetricFamily
            metric = kind(family.name, family.help, labels=list(family.labels))
            if with_samples:
                for values, value in family.samples:
                    metric.add_metric(list(values), value)
            yield metric


def register(
    health: Health,
    *,
    registry: CollectorRegistry | None = None,
    history: History | None = None,
    release_id: str | None = None,
    service_id: str | None = None,
) -> HealthCollector:
    """Register a :class:`HealthCollector` for ``health`` into ``registry``.

    ``registry`` defaults to prometheus-client's global ``REGISTRY``;
    ``release_id`` and ``service_id`` label ``healthprobe_info``.
    Registering twice into one registry raises prometheus-client's
    ``ValueError`` about duplicated timeseries.
    """
    client = require("prometheus_client", "prometheus")
    collector = HealthCollector(health, history, release_id=release_id, service_id=service_id)
    target = registry if registry is not None else client.REGISTRY
    target.register(collector)
    return collector
