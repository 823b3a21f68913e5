"""What the worker tells ops beyond its own counters: consumer lag and the cases' counts.

Both are collectors on the worker's registry (:mod:`monitoring.lag`, :mod:`monitoring.cases`):
lag is read from the broker on a timer, off the event loop, and the case counts are taken from
the case table at each scrape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import faust

from monitoring.cases import CaseCollector
from monitoring.lag import LagCollector
from monitoring.metrics import HubMetrics
from streams.broker.endpoint import BrokerEndpoint
from streams.broker.lag import LagReader
from streams.hub.case_figures import calendar_reach, case_counter
from streams.hub.ingress import CaseRules


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
    """Export the counts of the case table's cases and the calendar's reach at each scrape."""
    collector = CaseCollector(
        case_counter(table, rules.deadline_rules), calendar_reach(rules.calendar)
    )
    metrics.registry.register(collector)
