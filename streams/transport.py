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

from collections.abc import Mapping

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

#: The only ``consumer_auto_offset_reset`` under which a partition without a committed offset
#: is read from its start, so that rereading it from there is what a restart would do.
EARLIEST = "earliest"


class Producer(faust_aiokafka.Producer):
    """aiokafka producer whose flush empties Faust's send-soon buffer first."""

    async def flush(self) -> None:
        """Wait until every buffered and in-flight message is acknowledged."""
        while self.buffer.size:
            await self.buffer.flush()
        await super().flush()


class Consumer(faust_aiokafka.Consumer):
    """aiokafka consumer whose seek to committed offsets loses no fetched record."""

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
        """Seek to committed offsets, and stream partitions without one to their first offset."""
        committed = await super().seek_to_committed()
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


class Transport(faust_aiokafka.Transport):
    """Faust transport for ``kafka://`` URLs (registered as ``kawal``)."""

    Consumer = Consumer
    Producer = Producer
