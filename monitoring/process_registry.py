"""Each process's registry: what every Kawal process exports whatever its role.

The process's CPU, memory and file descriptors, the Python build, and the one tally of
malformed HTTP requests its servers answered (:class:`MalformedRequests`).
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


def process_registry() -> CollectorRegistry:
    """A registry with the process's CPU, memory and file descriptors and the Python build."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    registry.register(MALFORMED_REQUESTS)
    return registry


class MalformedRequests(Collector):
    """``kawal_http_malformed_requests_total``: requests the process's servers could not parse.

    Such a request is answered 400 and logged at DEBUG only (:mod:`streams.logs`), so that
    anyone cannot fill the logs; its rate shows here instead. The log filter counts into
    :data:`MALFORMED_REQUESTS`, the process's one tally.
    """

    def __init__(self) -> None:
        """No request counted yet."""
        self.count = 0

    def collect(self) -> Iterable[Metric]:
        """The count so far."""
        yield CounterMetricFamily(
            "kawal_http_malformed_requests",
            "HTTP requests whose request line or headers this process's API or portal server "
            "could not parse, answered 400 (a request with an unknown method is not counted).",
            value=self.count,
        )


#: Every registry of the process shows this one tally (:func:`process_registry`).
MALFORMED_REQUESTS = MalformedRequests()
