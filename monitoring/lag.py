"""Consumer-lag series, exported from the last reading of the hub's lag reader.

The reading itself (:mod:`streams.broker.lag`) talks to the broker; this collector only turns
it into series at scrape time, so a scrape never waits for the broker. Labels are the consumer
group (the hub's own: ``kawal``, ``kawal-audit-sink``, ``kawal-connector:<institution>:<name>``)
and the topic: registry names, never a case or a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

#: The last reading: lag by (group, topic) or None before the first, when it was read
#: (seconds since the epoch, 0 before the first) and how many readings failed.
LagSnapshot = tuple[Mapping[tuple[str, str], int] | None, float, int]


class LagCollector(Collector):
    """``kawal_consumer_lag_records`` and the freshness of the reading behind it."""

    def __init__(self, snapshot: Callable[[], LagSnapshot]) -> None:
        """Export what ``snapshot()`` returns at each scrape."""
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        """The series of the last reading."""
        lag, read_at, failures = self._snapshot()
        records = GaugeMetricFamily(
            "kawal_consumer_lag_records",
            "Records on the broker that a consumer group has not committed yet, summed over "
            "the partitions of a topic (end offsets from Fetch responses on tansu).",
            labels=["group", "topic"],
        )
        for (group, topic), behind in sorted((lag or {}).items()):
            records.add_metric([group, topic], behind)
        yield records
        yield GaugeMetricFamily(
            "kawal_consumer_lag_read_timestamp_seconds",
            "When consumer lag was last read from the broker (0: never yet).",
            value=read_at,
        )
        yield CounterMetricFamily(
            "kawal_consumer_lag_read_failures",
            "Consumer-lag readings that failed because the broker did not answer.",
            value=failures,
        )
