"""What the worker tells ops beyond its own counters: consumer lag and the cases' counts.

They are collectors on the worker's registry (:mod:`monitoring.lag`, :mod:`monitoring.cases`,
:mod:`monitoring.overdue`): lag is read from the broker on a timer, off the event loop, and the
case counts and the clocks' time overdue are taken from the case table at each scrape. Faust's
own sensor is there on request (``faust_sensor``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

from monitoring.cases import CaseCollector
from monitoring.lag import LagCollector
from monitoring.metrics import HubMetrics
from monitoring.overdue import OverdueCollector
from streams.broker.endpoint import BrokerEndpoint
from streams.broker.lag import LagReader
from streams.hub.case_figures import calendar_reach, case_counter
from streams.hub.ingress import CaseRules
from streams.hub.overdue_clocks import OverdueClocks


def watch_lag(
    app: faust.App,
    metrics: HubMetrics,
    endpoint: BrokerEndpoint,
    security: Mapping[str, Any] | None,
    interval: float,
) -> LagReader:
    """Read every hub group's lag every ``interval`` seconds and export the last reading."""
    reader = LagReader(endpoint, security)
    metrics.registry.register(LagCollector(reader.snapshot))

    async def read_lag() -> None:
        await asyncio.to_thread(reader.refresh)

    app.timer(interval, name="kawal.consumer-lag")(read_lag)
    return reader


def watch_cases(metrics: HubMetrics, table: Any, rules: CaseRules) -> None:
    """Export the cases' counts, their clocks' time overdue and the calendar's reach per scrape."""
    collector = CaseCollector(
        case_counter(table, rules.deadline_rules), calendar_reach(rules.calendar)
    )
    metrics.registry.register(collector)
    overdue = OverdueClocks(table, rules.deadline_rules)
    metrics.registry.register(OverdueCollector(overdue.ages))


def faust_sensor(app: faust.App, metrics: HubMetrics, enabled: bool) -> None:
    """With ``enabled``, Faust's own sensor on the hub's registry (``faust_*`` series).

    It adds rebalances, assignment and commit latency, producer send latency and messages per
    topic and partition. Off by default: it counts on every message, and its per-partition
    series grow with the registry (about 1,800 inbound topics at national size). Its
    ``faust_events_runtime_ms`` breaks Prometheus's naming (base unit seconds), which
    ``promtool check metrics`` reports.
    """
    if enabled:
        app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(metrics.registry, "faust"))
