"""``kawal_deadline_overdue_seconds``: how long the deadline timer has left a clock overdue.

Found by the worker's last case census (``streams.hub.overdue_clocks``); the collector only
turns the ages into series. The label is a configured deadline rule id; every rule is exported,
at 0 while none of its clocks is overdue, once the first census is taken. Several workers
each watch the partitions they hold: take the max over ``instance``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class OverdueCollector(Collector):
    """The age of each deadline rule's longest overdue clock."""

    def __init__(self, ages: Callable[[], Mapping[str, float]]) -> None:
        """Export ``ages()`` (seconds overdue by rule id) at each scrape."""
        self._ages = ages

    def collect(self) -> Iterator[Metric]:
        """The series of the clocks as they are now."""
        overdue = GaugeMetricFamily(
            "kawal_deadline_overdue_seconds",
            "How long the longest overdue clock of a deadline rule (run out, its DeadlineBreached "
            "not yet recorded) has been seen overdue by this worker, in seconds; 0: none.",
            labels=["rule"],
        )
        for rule, seconds in sorted(self._ages().items()):
            overdue.add_metric([rule], seconds)
        yield overdue
