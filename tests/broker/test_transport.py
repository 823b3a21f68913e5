"""The hub's producer never lets an offset commit pass a record the broker refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from streams.app import create_app
from streams.broker.provision import provision_topics
from streams.broker.transport import Producer
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from streams.settings import Settings
from streams.topics import CASE_AUDIT, all_topics

#: How long the producer retries a batch here before it gives up on it, in seconds.
REQUEST_TIMEOUT_SECONDS = 2.0


def test_a_failed_batch_fails_every_later_flush(tmp_path: Path) -> None:
    # Faust flushes the producer before each offset commit: a flush that failed would let
    # the commit pass the pipeline's batch whose records the broker never stored.
    broker = EmbeddedBroker.ephemeral(tmp_path / "broker", port=free_port())
    broker.start()
    try:
        settings = Settings(
            home=tmp_path / "home", broker_url=broker.url, web_port=free_port(), partitions=1
        )
        provision_topics([broker.bootstrap_servers], all_topics(load_institutions(), 1))
        asyncio.run(_fail_a_batch(settings, broker))
    finally:
        broker.stop()


async def _fail_a_batch(settings: Settings, broker: EmbeddedBroker) -> None:
    app = create_app(settings)
    app.conf.producer_request_timeout = REQUEST_TIMEOUT_SECONDS
    producer = app.producer
    assert isinstance(producer, Producer)
    await producer.start()
    try:
        stored = await producer.send_records(CASE_AUDIT, 0, [(b"case", b"stored", None)])
        await asyncio.gather(*stored)
        await producer.flush()  # nothing failed yet

        broker.stop()
        lost = await producer.send_records(CASE_AUDIT, 0, [(b"case", b"lost", None)])
        with pytest.raises(KafkaError):
            await asyncio.gather(*lost)

        with pytest.raises(ProducerSendError, match="no offset is committed past them"):
            await producer.flush()
        with pytest.raises(ProducerSendError):
            await producer.flush()  # for good: the worker must restart
    finally:
        await producer.stop()
