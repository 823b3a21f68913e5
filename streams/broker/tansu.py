"""Everything tansu-specific, and nothing else.

tansu 0.6 answers ListOffsets(latest) with the first offset of the partition's last batch + 1,
not its real end. Faust sizes table recovery from those end offsets, so recovery would stop
short and lose table state; consumer lag would be wrong too. So we fetch from the last batch it
reports and read on to the last record.

The high watermark a Fetch response carries is no end offset either: tansu raises a partition's
watermark before it writes the batch, so a broker or storage killed in between leaves offsets
below the watermark that will never hold a record. When they are a changelog's last offsets,
Faust's recovery waits for them forever and the worker never becomes ready. The end is
therefore one past the last record a Fetch returns, never above the high watermark.

tansu also holds a Fetch request that spans many partitions for the whole max wait even when
records arrive (one partition wakes early), and Faust fixes that wait at 1.5 s: each hop of the
pipeline then took 0.5-1.6 s. A 5 ms wait brought publish → acceptance receipt to p50 23 ms /
p99 43 ms at 200 events/s (`make bench`), but at rest each consumer then sent about 200 idle
Fetch requests a second, and the hub burnt two thirds of a core doing nothing. So the wait
adapts (:class:`FetchPacer`): 5 ms while records flow, a quarter of a second once none has
come for 2 s. Once none has come for a minute, the consumer looks every 10 s instead of keeping
a Fetch waiting at tansu, which reads every partition's watermark from storage every 5 s while
it does (:func:`look_when_due`). The first record after a quiet spell waits at most that long
at each hop; a burst is back at 5 ms from its second fetch.

The hub selects this module only for ``tansu://`` broker URLs (:mod:`streams.broker.endpoint`),
through
the Faust transport registered under the entry point ``faust.transports: tansu``; the same code
runs on Apache Kafka with ``kafka://``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaError

from schemas.errors import KawalError
from streams.broker import fetching
from streams.broker import transport as hub_transport
from streams.broker.endpoint import kafka_client

#: Longest time tansu may hold a Fetch request while records flow, in milliseconds.
FETCH_MAX_WAIT_MS = 5
#: Longest time tansu may hold a Fetch request once the consumer is idle, in milliseconds.
IDLE_FETCH_MAX_WAIT_MS = 250
#: Seconds without a fetched record after which a consumer counts as idle (the transport's).
IDLE_AFTER_SECONDS = hub_transport.IDLE_AFTER_SECONDS
#: Longest time tansu may hold the Fetch of a quiet consumer's look, in ms: long enough for it
#: to look at each partition twice. The first look after a quiet spell misses records now and
#: then (with 5 ms, a look at 176 inbound partitions of a national registry brought only one
#: of two partitions' records, or none, once for 35 s of looks); with 250 ms every look
#: brought every record.
QUIET_FETCH_MAX_WAIT_MS = IDLE_FETCH_MAX_WAIT_MS
#: Seconds without a fetched record after which a consumer counts as quiet.
QUIET_AFTER_SECONDS = 60.0
#: Seconds between a quiet consumer's looks at its partitions. tansu reads a partition's
#: watermark from storage when a Fetch names it and its cached copy is over 5 s old, and a Fetch
#: it holds names every partition again each time it looks (four times in a 1 s wait): with
#: one held Fetch a second, the 185 partitions of a national registry's worker cost 37 storage
#: reads a second, and the hub 7.6-8.4 % of a core at rest; looking every 10 s, 4.0 %
#: (docs/scale.md, "Cheap at rest"). The first record after a quiet spell waits up to this long
#: at each hop.
QUIET_LOOK_SECONDS = 10.0

#: How long one Fetch round trip may take before recovery gives up, in seconds.
END_OFFSET_FETCH_TIMEOUT_SECONDS = 15.0


class EndOffsetError(KawalError):
    """The real end offsets could not be read from the broker."""


#: Real end offsets already fetched: for each partition, the end ListOffsets reported then and
#: the end the Fetch found.
KnownEnds = MutableMapping[TP, tuple[int, int]]


def fetched_end_offsets(
    bootstrap: list[str],
    reported: Mapping[TP, int],
    timeout: float = END_OFFSET_FETCH_TIMEOUT_SECONDS,
    *,
    security: Mapping[str, Any] | None = None,
    known: KnownEnds | None = None,
) -> dict[TP, int]:
    """Real end offsets: one past the last record of each partition, read by fetching.

    Args:
        bootstrap: ``host:port`` servers.
        reported: end offsets as ListOffsets reported them (possibly too low).
        timeout: seconds to wait for each Fetch response.
        security: the client's security arguments (``security_protocol`` and the rest), as
            the worker's own consumer has them; ``None`` is plaintext.
        known: ends fetched by an earlier call, updated with this call's. A partition whose
            reported end has not changed since has no new batch, so its end is not fetched
            again: each Fetch makes tansu list every batch the partition ever stored.

    Returns:
        The end offset (one past the last record) of every partition.

    Raises:
        EndOffsetError: a partition's Fetch response did not arrive in time.
    """
    known = {} if known is None else known
    ends = {tp: (end or 0) for tp, end in reported.items()}
    unknown = {tp: end for tp, end in ends.items() if known.get(tp, (None, 0))[0] != end}
    ends.update({tp: known[tp][1] for tp in ends.keys() - unknown.keys()})
    if any(unknown.values()):
        ends.update(_fetched_ends(bootstrap, unknown, timeout, security))
    known.update({tp: (reported_end, ends[tp]) for tp, reported_end in unknown.items()})
    return ends


def _fetched_ends(
    bootstrap: list[str],
    reported: Mapping[TP, int],
    timeout: float,
    security: Mapping[str, Any] | None,
) -> dict[TP, int]:
    ends = dict(reported)
    consumer = kafka_client(
        KafkaConsumer,
        bootstrap,
        security,
        timeout,
        enable_auto_commit=False,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
    )
    try:
        for tp, end in ends.items():
            # A reported end of 0 means no batch at all: the partition is really empty.
            # Otherwise a batch starts at the reported end - 1: the last record is there or after.
            if end > 0:
                ends[tp] = max(end, _end_of_records(consumer, tp, end - 1, timeout))
    finally:
        consumer.close()
    return ends


def _end_of_records(consumer: KafkaConsumer, tp: TP, offset: int, timeout: float) -> int:
    """One past the last record at or after ``offset``, fetching that partition alone.

    Alone, because a Fetch response may leave out the records of some partitions it names.
    """
    while True:
        position, highwater = _fetch_once(consumer, tp, offset, timeout)
        if position >= highwater or position == offset:
            # At the high watermark, or a Fetch from here returned no record (the offsets up
            # to the watermark were never written): here the records end.
            return position
        offset = position  # read on: more batches may follow


def _fetch_once(consumer: KafkaConsumer, tp: TP, offset: int, timeout: float) -> tuple[int, int]:
    """Fetch ``tp`` from ``offset``: the position after the records returned, and the HW.

    The partition is assigned afresh, so a known high watermark means that the first
    successful Fetch response from ``offset`` has been read, with the records it held.
    """
    ktp = KafkaTopicPartition(tp.topic, tp.partition)
    consumer.unsubscribe()
    consumer.assign([ktp])
    consumer.seek(ktp, offset)
    deadline = time.monotonic() + timeout
    while (highwater := consumer.highwater(ktp)) is None:
        if time.monotonic() > deadline:
            raise EndOffsetError(
                f"no Fetch response from the broker for {tp.topic}[{tp.partition}] within "
                f"{timeout:.0f} s; check that the broker is up, then restart the worker"
            )
        try:
            consumer.poll(timeout_ms=200, max_records=100_000)
        except KafkaError:
            # The broker answers an error while its storage is not ready; try again.
            time.sleep(0.2)
    return consumer.position(ktp), highwater


def _bootstrap_of(thread: faust_aiokafka.AIOKafkaConsumerThread) -> list[str]:
    urls = thread.app.conf.broker_consumer
    return [f"{url.host}:{url.port}" for url in urls]


def _security_of(thread: faust_aiokafka.AIOKafkaConsumerThread) -> Mapping[str, Any]:
    # Faust's own translation, so this consumer authenticates as the worker's does.
    conf = thread.app.conf
    return faust_aiokafka.credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context)


class FetchPacer:
    """When a consumer fetches: at once while records flow, less often the longer it is idle.

    Args:
        clock: Monotonic seconds (tests pass their own).
        look_seconds: Seconds between a quiet consumer's looks at its partitions.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, look_seconds: float = QUIET_LOOK_SECONDS
    ) -> None:
        self._clock = clock
        self._look_seconds = look_seconds
        self._last_record = clock()
        self._records_came: asyncio.Event | None = None

    def wait_ms(self, busy: bool) -> int:
        """The wait of the next Fetch, told whether the last fetch left records to handle."""
        now = self._clock()
        if busy:
            self._last_record = now
            if self._records_came is not None:
                self._records_came.set()
        waited = now - self._last_record
        if waited >= QUIET_AFTER_SECONDS:
            return QUIET_FETCH_MAX_WAIT_MS
        return IDLE_FETCH_MAX_WAIT_MS if waited >= IDLE_AFTER_SECONDS else FETCH_MAX_WAIT_MS

    def quiet(self) -> bool:
        """Whether no record has come for :data:`QUIET_AFTER_SECONDS`."""
        return self._clock() - self._last_record >= QUIET_AFTER_SECONDS

    async def next_look(self) -> None:
        """Return when the next Fetch may go: at once, or a quiet consumer's next look.

        Records taken meanwhile (:meth:`wait_ms` told busy) end the wait: they came in the
        response just before, and more may follow.
        """
        if not self.quiet():
            return
        self._records_came = came = asyncio.Event()
        try:
            await asyncio.wait_for(came.wait(), self._look_seconds)
        except TimeoutError:
            pass
        finally:
            self._records_came = None


def look_when_due(consumer: Any, pacer: FetchPacer) -> None:
    """Make a started ``consumer``'s fetcher send each Fetch only when ``pacer`` lets it."""
    fetcher = fetching.fetcher_of(consumer)
    fetch = fetcher._proc_fetch_request

    async def paced(assignment: Any, node_id: int, request: Any) -> bool:
        # The broker counts as busy meanwhile, so no other Fetch goes to it either.
        try:
            await pacer.next_look()
        except asyncio.CancelledError:
            # Closed or unassigned meanwhile: what the fetcher's own task answers then.
            return False
        return bool(await fetch(assignment, node_id, request))

    fetcher._proc_fetch_request = paced


class ConsumerThread(fetching.ConsumerThread):
    """aiokafka consumer thread whose end offsets come from Fetch responses."""

    _pacer: FetchPacer | None = None

    async def on_start(self) -> None:
        """Start the consumer; its quiet looks then come at the pacer's pace."""
        await super().on_start()
        if self._pacer is not None:
            look_when_due(self._ensure_consumer(), self._pacer)

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when the consumer starts, which happens after creation.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        self._pacer = FetchPacer()
        return consumer

    async def _fetch_records(
        self,
        consumer: Any,
        active_partitions: set[TP],
        timeout: float | None = None,
        max_records: int | None = None,
    ) -> RecordMap:
        records = await super()._fetch_records(consumer, active_partitions, timeout, max_records)
        fetcher = getattr(consumer, "_fetcher", None)
        if self._pacer is not None and fetcher is not None:
            busy = bool(records) or self._stream_records_wait(fetcher._records)
            # The fetcher builds each request from this attribute.
            fetcher._fetch_max_wait_ms = self._pacer.wait_ms(busy)
        return records

    def _stream_records_wait(self, buffered: Mapping[Any, Any]) -> bool:
        """Whether records fetched for a stream's partitions wait in the consumer's buffer.

        Those of partitions paused while their stream's buffer is full are still flowing. Those
        of a table's changelog are not: the worker fetches its changelog partitions for
        recovery, and Faust then stops taking their records without pausing them in aiokafka,
        so the last fetched stay in the buffer for good. Counted, they kept the worker fetching
        every 5 ms for ever after its first event (90 % of a core at rest with tansu).
        """
        changelogs = self.app.tables.changelog_topics
        return any(tp.topic not in changelogs for tp in buffered)

    async def _highwaters(self, partitions: list[TP]) -> Mapping[TP, int]:
        reported = await super()._highwaters(partitions)
        bootstrap, security = _bootstrap_of(self), _security_of(self)
        return await asyncio.to_thread(fetched_end_offsets, bootstrap, reported, security=security)


class Consumer(hub_transport.Consumer):
    """The hub's consumer (:mod:`streams.broker.transport`) using :class:`ConsumerThread`."""

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(hub_transport.Transport):
    """Faust transport for ``tansu://`` URLs: the hub's transport with the consumer above."""

    Consumer = Consumer
