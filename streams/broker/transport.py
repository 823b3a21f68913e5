"""The hub's Faust transport for any Kafka broker (``kafka://`` URLs).

Faust's producer buffer gives up flushing after 0.1 s without a send (``flush_atmost``), so
under load the flush that precedes an offset commit can return while table changelog
messages are still buffered; a crash then commits offsets whose table updates were never
written, and the tables come back older than the offsets say. This transport's producer
drains the buffer completely before it flushes the client, so an offset is committed only
after the changelog writes of the events before it.

When table recovery ends, Faust resumes the stream partitions, seeks them to their committed
offsets and only then resumes flow control, which empties every agent's queue. Records fetched
while the seek runs were read but are dropped unprocessed: the consumer has moved past them,
they are never acknowledged, and the offset commit stalls below the first of them. aiokafka
does not seek a partition without a committed offset at all, so nothing brings them back; a
partition with one loses those fetched after its seek. This transport's consumer stops handing
records to the streams before it seeks (as Faust does when partitions are revoked) and seeks a
partition without a committed offset back to its first offset, so every record dropped from a
queue is fetched again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import cast

from aiokafka.errors import (
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from faust.exceptions import ProducerSendError
from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, RecordMetadata
from mode import Seconds
from mode.services import WaitArgT, WaitResults

from schemas.errors import KawalError
from streams.broker import eager
from streams.broker.fetching import ConsumerThread

#: Kafka record headers: name and value.
Headers = list[tuple[str, bytes]]
#: A record to produce: key, value and headers.
Record = tuple[bytes | None, bytes, Headers | None]

#: The only ``consumer_auto_offset_reset`` under which a partition without a committed offset
#: is read from its start, so that rereading it from there is what a restart would do.
EARLIEST = "earliest"

#: Where an app's output already holds each ``(topic, partition)`` up to: the next offset.
Positions = Mapping[tuple[str, int], int]
#: Reads those positions (a blocking call, run off the event loop).
PositionKeeper = Callable[[], Positions]

#: Apps that resume from their output's own positions rather than the group's commits.
_KEEPERS: weakref.WeakKeyDictionary[object, PositionKeeper] = weakref.WeakKeyDictionary()

log = logging.getLogger(__name__)


def resume_from(app: object, keeper: PositionKeeper) -> None:
    """Make ``app`` resume every stream partition where ``keeper`` says its output stands.

    The eventsourcing way: an output written in one transaction with the offsets it came
    from is the truth of what was applied. A store restored from a backup, or a new empty
    one, is then filled from where it really stands, not from where the group last
    committed (which would leave a silent gap). A partition the output holds nothing of is
    read from its start. Every write must be idempotent: the group's commit may be ahead.
    """
    _KEEPERS[app] = keeper


#: Longest a fetch waits for new records, in seconds. A partition whose agent's buffer filled
#: up is left out of the fetch; when the agent drains it, the records already fetched for it
#: are not looked at until the fetch in progress returns, and Faust's fetch waits 1 s for
#: records of the other partitions, which may have none: the agent then stalled for up to 1 s.
FETCH_WAIT_SECONDS = 0.05
#: Longest a fetch waits once no record has come for :data:`IDLE_AFTER_SECONDS` and no partition
#: is paused: each wait wakes both of the consumer's event loops, 20 times a second at 50 ms.
IDLE_FETCH_WAIT_SECONDS = 1.0
IDLE_AFTER_SECONDS = 2.0


#: Longest the producer waits for a topic's metadata (a feed written to for the first time).
TOPIC_METADATA_SECONDS = 30.0


class MissingTopicError(KawalError):
    """A topic the hub writes to is not on the broker, or not visible to the hub."""


class Producer(faust_aiokafka.Producer):
    """aiokafka producer whose flush empties Faust's send-soon buffer first.

    It also sends whole record batches (:meth:`send_records`), for the pipeline's outbox, and
    its flush fails for good once one of those batches failed: Faust flushes the producer
    before every offset commit, and a commit after a lost record would skip it for ever.
    """

    #: The first failure of a batch from :meth:`send_records`, if any.
    send_failure: BaseException | None = None

    async def send_records(
        self, topic: str, partition: int, records: Iterable[Record]
    ) -> list[Awaitable[RecordMetadata]]:
        """Append records to ``topic``/``partition`` in as few batches as they fit.

        A record costs the batch builder about a microsecond, against several for a
        :meth:`send` of its own (a future, a partitioner call and a metadata check each).

        Returns:
            A future per batch, done when the broker has acknowledged it.

        Raises:
            RecordTooLargeError: a record alone exceeds ``producer_max_batch_size``.
        """
        producer = self._ensure_producer()
        sent: list[Awaitable[RecordMetadata]] = []
        batch = producer.create_batch()
        for key, value, headers in records:
            if batch.append(timestamp=None, key=key, value=value, headers=headers or []):
                continue
            if batch.record_count():
                sent.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
            if not batch.append(timestamp=None, key=key, value=value, headers=headers or []):
                raise RecordTooLargeError(
                    f"a record for {topic} exceeds the producer's batch size; raise "
                    "producer_max_batch_size (and the broker's message.max.bytes)"
                )
        if batch.record_count():
            sent.append(await producer.send_batch(batch, topic, partition=partition))
        for future in sent:
            cast(asyncio.Future[RecordMetadata], future).add_done_callback(self._note_outcome)
        return sent

    async def partition_count(self, topic: str) -> int:
        """How many partitions ``topic`` has, from the producer's metadata (fetched if needed).

        Raises:
            MissingTopicError: the broker has no such topic, or does not let the hub see it,
                within :data:`TOPIC_METADATA_SECONDS` (aiokafka alone would wait as long as
                the producer's request timeout, 20 minutes, and then name no topic).
        """
        try:
            partitions = await asyncio.wait_for(
                self._ensure_producer().partitions_for(topic), TOPIC_METADATA_SECONDS
            )
        except (TimeoutError, UnknownTopicOrPartitionError):
            raise MissingTopicError(
                f"the broker has no topic {topic} (asked for {TOPIC_METADATA_SECONDS:.0f} s): "
                "run `kawal topics apply` (or apply the generated topic manifests); the worker "
                "then processes the records waiting for it"
            ) from None
        except TopicAuthorizationFailedError:
            raise MissingTopicError(
                f"the hub's broker credentials may not see topic {topic}: grant the hub its "
                "ACLs (docs/broker-security.md)"
            ) from None
        return len(partitions)

    async def flush(self) -> None:
        """Wait until every buffered and in-flight message is acknowledged.

        Raises:
            ProducerSendError: a batch from :meth:`send_records` failed, now or before; its
                records are lost unless their input is processed again, so nothing may be
                committed until the worker restarts from its last commit.
        """
        while self.buffer.size:
            await self.buffer.flush()
        await super().flush()
        if self.send_failure is not None:
            raise ProducerSendError(
                f"the broker refused records ({self.send_failure!r}); no offset is "
                "committed past them: restart the worker to process their input again"
            ) from self.send_failure

    def _note_outcome(self, future: asyncio.Future[RecordMetadata]) -> None:
        if self.send_failure is None and not future.cancelled():
            self.send_failure = future.exception()


class Consumer(faust_aiokafka.Consumer):
    """aiokafka consumer whose seek to committed offsets loses no fetched record.

    It also waits at most :data:`FETCH_WAIT_SECONDS` for records while they flow, not Faust's
    1 s, and hands records to the streams without a task each (:meth:`wait_first`). Its thread
    corrects aiokafka's fetcher (:mod:`streams.broker.fetching`).
    """

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def wait_first(self, *coros: WaitArgT, timeout: Seconds | None = None) -> WaitResults:
        """Faust's, except that a first coroutine finishing at once makes no task at all.

        Faust delivers each fetched record as ``wait_first(deliver, suspend_flow.wait())``
        (:mod:`streams.broker.eager`); only a delivery that has to wait (a full queue) races the
        flow
        suspension as before.
        """
        if timeout is not None:
            return await super().wait_first(*coros, timeout=timeout)
        first, *others = coros
        if not asyncio.iscoroutine(first):
            return await super().wait_first(*coros)
        try:
            outcome = eager.step(first)
        except BaseException:
            _close(others)
            raise
        if isinstance(outcome, eager.Suspended):
            results = await super().wait_first(outcome, *others)
            return results._replace(done=[first if d is outcome else d for d in results.done])
        _close(others)
        if self._stopped.is_set() or self._crashed.is_set():
            return WaitResults([], [], True)
        return WaitResults([first], [outcome], False)

    _last_records: float = 0.0

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> RecordMap:
        # Idle, the longer wait costs nothing: records that arrive end it at once.
        idle = time.monotonic() - self._last_records > IDLE_AFTER_SECONDS
        # A partition held back by a full buffer must be looked at again as soon as it drains.
        full = bool(self._buffered_partitions)
        wait = IDLE_FETCH_WAIT_SECONDS if idle and not full else FETCH_WAIT_SECONDS
        records = await super()._getmany(active_partitions, min(timeout, wait))
        if records:
            self._last_records = time.monotonic()
        return records

    async def perform_seek(self) -> None:
        """Stop delivering to the streams, then seek every partition to where it must resume.

        Faust calls this with the stream partitions already resumed and resumes flow control
        (emptying the agents' queues) right after it; from here until then nothing reaches a
        queue, and whatever was in one is fetched again from the position sought here.
        """
        if self.flow_active:
            self.stop_flow()
        self.app.flow_control.suspend()
        await super().perform_seek()

    async def seek_to_committed(self) -> Mapping[TP, int]:
        """Seek to committed offsets, and stream partitions without one to their first offset.

        An app whose output keeps its own positions (:func:`resume_from`) resumes there.
        """
        committed = await super().seek_to_committed()
        keeper = _KEEPERS.get(self.app)
        if keeper is not None:
            return await self._seek_to_kept(committed, keeper)
        if self.app.conf.consumer_auto_offset_reset == EARLIEST:
            changelogs = self.app.tables.changelog_topics
            uncommitted = [
                tp
                for tp, offset in committed.items()
                if (offset is None or offset <= 0) and tp.topic not in changelogs
            ]
            if uncommitted:
                await self.seek_wait(await self.earliest_offsets(*uncommitted))
        return committed

    async def _seek_to_kept(
        self, committed: Mapping[TP, int], keeper: PositionKeeper
    ) -> Mapping[TP, int]:
        try:
            kept = await asyncio.to_thread(keeper)
        except KawalError as exc:
            # The writes retry until the output is back; resuming from the group's commits
            # meanwhile loses nothing, as every write is idempotent.
            log.warning("positions of the output unreadable (%s); resuming from commits", exc)
            return committed
        changelogs = self.app.tables.changelog_topics
        streams = [tp for tp in committed if tp.topic not in changelogs]
        targets = {
            tp: kept[tp.topic, tp.partition] for tp in streams if (tp.topic, tp.partition) in kept
        }
        unknown = [tp for tp in streams if tp not in targets]
        if unknown:
            targets.update(await self.earliest_offsets(*unknown))
        if targets:
            await self.seek_wait(targets)
        return {**committed, **targets}


def _close(awaitables: Iterable[WaitArgT]) -> None:
    """Close coroutines that will never run (else Python warns they were never awaited)."""
    for awaitable in awaitables:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()


class Transport(faust_aiokafka.Transport):
    """Faust transport for ``kafka://`` URLs (registered as ``kawal``)."""

    Consumer = Consumer
    Producer = Producer
