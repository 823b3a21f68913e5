"""What the worker tells ops beyond its own counters: consumer lag, strays, the cases' counts.

They are collectors on the worker's registry (:mod:`monitoring.lag`, :mod:`monitoring.strays`,
:mod:`monitoring.cases`, :mod:`monitoring.overdue`): lag and the records on stray inbound
topics are read from the broker on timers, off the event loop, and the
case counts and the clocks' time overdue are those of the worker's last case census
(:mod:`streams.hub.case_census`). Faust's own sensor is there on request (``faust_sensor``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

from monitoring.cases import CaseCollector
from monitoring.lag import LagCollector
from monitoring.metrics import HubMetrics, Timer
from monitoring.overdue import OverdueCollector
from monitoring.strays import StrayCollector
from streams.broker.endpoint import BrokerEndpoint
from streams.broker.lag import LagReader
from streams.broker.strays import StrayWatch
from streams.domain.calendar import WorkingCalendar
from streams.domain.case_counts import last_covered_year
from streams.domain.deadlines import JAKARTA
from streams.domain.institutions import Institution
from streams.hub.case_census import CaseCensus
from streams.hub.ingress import CaseRules

#: The broker's topics are listed for stray inbound ones at every this many lag readings (every
#: minute by default): a listing names every topic (about 3,600 at national size), and a
#: stray's records wait for a person anyway.
STRAY_CHECK_EVERY = 4


def watch_lag(
    app: faust.App,
    metrics: HubMetrics,
    endpoint: BrokerEndpoint,
    security: Mapping[str, Any] | None,
    interval: float,
) -> LagReader:
    """Read every hub group's lag every ``interval`` seconds and export the last reading."""
    reader = LagReader(endpoint, security)
    metrics.timer_every(Timer.CONSUMER_LAG, interval)
    metrics.registry.register(LagCollector(reader.snapshot))

    async def read_lag() -> None:
        await asyncio.to_thread(reader.refresh)

    app.timer(interval, name="kawal.consumer-lag")(read_lag)
    return reader


def watch_strays(
    app: faust.App,
    metrics: HubMetrics,
    endpoint: BrokerEndpoint,
    security: Mapping[str, Any] | None,
    institutions: Mapping[str, Institution],
    lag_interval: float,
) -> StrayWatch:
    """Count the records on inbound topics the pipeline does not read, on a timer.

    Every :data:`STRAY_CHECK_EVERY` ``lag_interval``: it follows the lag reading's setting.
    """
    watch = StrayWatch(endpoint, institutions, security)
    metrics.registry.register(StrayCollector(watch.snapshot))

    async def read_strays() -> None:
        await asyncio.to_thread(watch.refresh)

    app.timer(STRAY_CHECK_EVERY * lag_interval, name="kawal.stray-inbound")(read_strays)
    return watch


def watch_cases(
    metrics: HubMetrics, table: Any, rules: CaseRules, history_grace_seconds: float
) -> CaseCensus:
    """The census of ``table``, whose counts and clocks' time overdue are exported when taken.

    The calendar's reach is exported too. The deadline timer takes the census
    (:func:`streams.hub.deadline_timer.register`); ``history_grace_seconds``: see
    :class:`CaseCensus`.
    """
    grace = timedelta(seconds=history_grace_seconds)
    census = CaseCensus(table, rules.deadline_rules, history_grace=grace)
    metrics.registry.register(
        CaseCollector(census.counts, calendar_reach(rules.calendar), census.taken)
    )
    metrics.registry.register(OverdueCollector(census.ages))
    return census


def calendar_reach(calendar: WorkingCalendar) -> Callable[[], int]:
    """A function giving the last year, from this one in Jakarta, with holiday data."""

    def year() -> int:
        return last_covered_year(calendar.covers, datetime.now(JAKARTA).year)

    return year


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
