"""Everything tansu-specific, and nothing else.

tansu 0.6 answers ListOffsets(latest) with the first offset of the partition's last batch + 1,
not its real end. Faust sizes table recovery from those end offsets, so recovery would stop
short and lose table state; consumer lag would be wrong too. The high watermark carried by a
Fetch response is right, so we fetch from just before the reported end and read it there.

tansu also holds a Fetch request that spans many partitions for the whole max wait even when
records arrive (one partition wakes early), and Faust fixes that wait at 1.5 s: each hop of the
pipeline then took 0.5-1.6 s. Capping the wait at 5 ms brought publish → acceptance receipt
to p50 23 ms / p99 43 ms at 200 events/s (`make bench`), at the price of idle Fetch requests
(about 200 a second per consumer when nothing arrives).

The hub selects this module only for ``tansu://`` broker URLs (:mod:`streams.broker`), through
the Faust transport registered under the entry point ``faust.transports: tansu``; the same code
runs on Apache Kafka with ``kafka://``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition

from schemas.errors import KawalError
from streams import transport as hub_transport

#: Longest time tansu may hold a Fetch request, in milliseconds (see the module docstring).
FETCH_MAX_WAIT_MS = 5

#: How long the Fetch round trip may take before recovery gives up, in seconds.
END_OFFSET_FETCH_TIMEOUT_SECONDS = 15.0


class EndOffsetError(KawalError):
    """The real end offsets could not be read from the broker."""


def fetched_end_offsets(
    bootstrap: list[str],
    reported: Mapping[TP, int],
    timeout: float = END_OFFSET_FETCH_TIMEOUT_SECONDS,
) -> dict[TP, int]:
    """Real end offsets, read from Fetch responses' high watermarks.

    Args:
        bootstrap: ``host:port`` servers.
        reported: end offsets as ListOffsets reported them (possibly too low).
        timeout: seconds to wait for every partition's Fetch response.

    Returns:
        The end offset (offset of the next record to be written) of every partition.

    Raises:
        EndOffsetError: a partition's Fetch response did not arrive in time.
    """
    # A reported end of 0 means no batch at all: the partition is really empty.
    to_fetch = [tp for tp, end in reported.items() if end and end > 0]
    result = {tp: (end or 0) for tp, end in reported.items()}
    if not to_fetch:
        return result
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        result.update(_read_highwaters(consumer, to_fetch, reported, timeout))
    finally:
        consumer.close()
    return result


def _read_highwaters(
    consumer: KafkaConsumer, tps: Iterable[TP], reported: Mapping[TP, int], timeout: float
) -> dict[TP, int]:
    by_kafka_tp = {KafkaTopicPartition(tp.topic, tp.partition): tp for tp in tps}
    consumer.assign(list(by_kafka_tp))
    for ktp, tp in by_kafka_tp.items():
        consumer.seek(ktp, reported[tp] - 1)
    deadline = time.monotonic() + timeout
    pending = set(by_kafka_tp)
    while pending:
        if time.monotonic() > deadline:
            names = ", ".join(f"{k.topic}[{k.partition}]" for k in sorted(pending))
            raise EndOffsetError(
                f"no Fetch response from the broker for {names} within {timeout:.0f} s; "
                "check that the broker is up, then restart the worker"
            )
        consumer.poll(timeout_ms=200, max_records=10_000)
        pending = {ktp for ktp in pending if consumer.highwater(ktp) is None}
    return {tp: max(consumer.highwater(ktp), reported[tp]) for ktp, tp in by_kafka_tp.items()}


def _bootstrap_of(thread: faust_aiokafka.AIOKafkaConsumerThread) -> list[str]:
    urls = thread.app.conf.broker_consumer
    return [f"{url.host}:{url.port}" for url in urls]


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """aiokafka consumer thread whose end offsets come from Fetch responses."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when the consumer starts, which happens after creation.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer

    async def _highwaters(self, partitions: list[TP]) -> Mapping[TP, int]:
        reported = await super()._highwaters(partitions)
        bootstrap = _bootstrap_of(self)
        return await asyncio.to_thread(fetched_end_offsets, bootstrap, reported)


class Consumer(faust_aiokafka.Consumer):
    """Faust consumer using :class:`ConsumerThread`."""

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(hub_transport.Transport):
    """Faust transport for ``tansu://`` URLs: the hub's transport with the consumer above."""

    Consumer = Consumer
