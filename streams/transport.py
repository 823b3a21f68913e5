"""The hub's Faust transport for any Kafka broker (``kafka://`` URLs).

Faust's producer buffer gives up flushing after 0.1 s without a send (``flush_atmost``), so
under load the flush that precedes an offset commit can return while table changelog
messages are still buffered; a crash then commits offsets whose table updates were never
written, and the tables come back older than the offsets say. This transport's producer
drains the buffer completely before it flushes the client, so an offset is committed only
after the changelog writes of the events before it.
"""

from __future__ import annotations

from faust.transport.drivers import aiokafka as faust_aiokafka


class Producer(faust_aiokafka.Producer):
    """aiokafka producer whose flush empties Faust's send-soon buffer first."""

    async def flush(self) -> None:
        """Wait until every buffered and in-flight message is acknowledged."""
        while self.buffer.size:
            await self.buffer.flush()
        await super().flush()


class Transport(faust_aiokafka.Transport):
    """Faust transport for ``kafka://`` URLs (registered as ``kawal``)."""

    Producer = Producer
