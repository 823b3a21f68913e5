"""Stray inbound topics, exported from the last reading of the worker's stray watch.

The reading itself (:mod:`streams.broker.strays`) talks to the broker on a timer; this
collector only turns it into series at scrape time. The label is the stray topic's name: a
registry id or what a sender chose, never a case or a person. A sender can name many topics,
so at most :data:`MAX_SERIES` are exported, the fullest first; the log names them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

#: The last reading (records by stray topic, None before the first) and the failed readings.
StraySnapshot = tuple[Mapping[str, int] | None, int]
#: Most stray topics exported, so that a sender naming topics cannot grow the series unbounded.
MAX_SERIES = 50


class StrayCollector(Collector):
    """``kawal_stray_inbound_records`` and the failed readings behind it."""

    def __init__(self, snapshot: Callable[[], StraySnapshot]) -> None:
        """Export what ``snapshot()`` returns at each scrape."""
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        """The series of the last reading."""
        strays, failures = self._snapshot()
        records = GaugeMetricFamily(
            "kawal_stray_inbound_records",
            "Records on an inbound topic the pipeline does not read (not processed, no "
            "receipt sent), by topic; the fullest topics only.",
            labels=["topic"],
        )
        fullest = sorted((strays or {}).items(), key=lambda item: (-item[1], item[0]))
        for topic, count in fullest[:MAX_SERIES]:
            records.add_metric([topic], count)
        yield records
        yield GaugeMetricFamily(
            "kawal_stray_inbound_topics",
            "Inbound topics holding records that the pipeline does not read (-1: not read yet).",
            value=-1 if strays is None else len(strays),
        )
        yield CounterMetricFamily(
            "kawal_stray_inbound_read_failures",
            "Readings of the broker's stray inbound topics that failed.",
            value=failures,
        )
