"""The hub's producer never lets an offset commit pass a record the broker refused."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError, UnknownTopicOrPartitionError
from faust.exceptions import ProducerSendError

from streams.app import create_app
from streams.broker import transport
from streams.broker.provision import provision_topics
from streams.broker.transport import MissingTopicError, Producer
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from streams.settings import Settings
from streams.topics import CASE_AUDIT, all_topics, outbound_topic
from tests.brokers import start_ephemeral_broker

#: How long the producer retries a batch here before it gives up on it, in seconds.
REQUEST_TIMEOUT_SECONDS = 2.0


def test_a_failed_batch_fails_every_later_flush(tmp_path: Path) -> None:
    # Faust flushes the producer before each offset commit: a flush that failed would let
    # the commit pass the pipeline's batch whose records the broker never stored.
    broker = start_ephemeral_broker(tmp_path / "broker")
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


def test_a_topic_the_broker_lacks_or_hides_is_named_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tansu creates any topic asked about; a Kafka cluster (auto-creation off, ACLs on) answers
    # for a missing feed as simulated here, which aiokafka alone waits 20 minutes to report.
    broker = start_ephemeral_broker(tmp_path / "broker")
    monkeypatch.setattr(transport, "TOPIC_METADATA_SECONDS", 0.5)
    try:
        settings = Settings(
            home=tmp_path / "home", broker_url=broker.url, web_port=free_port(), partitions=1
        )
        provision_topics([broker.bootstrap_servers], all_topics(load_institutions(), 1))
        asyncio.run(_ask_partition_counts(settings))
    finally:
        broker.stop()


async def _ask_partition_counts(settings: Settings) -> None:
    producer = create_app(settings).producer
    assert isinstance(producer, Producer)
    await producer.start()
    feed = outbound_topic("bkn")
    try:
        assert await producer.partition_count(feed) == 1
        client = producer._ensure_producer()
        for answer, expected in (
            (UnknownTopicOrPartitionError(), "run `kawal topics apply`"),
            (TopicAuthorizationFailedError(), "grant the hub its ACLs"),
            (None, "asked for 0 s"),  # no answer at all
        ):

            async def metadata(topic: str, answer: Exception | None = answer) -> set[int]:
                if answer is None:
                    await asyncio.sleep(60)
                    return set()
                raise answer

            client.partitions_for = metadata
            with pytest.raises(MissingTopicError, match=rf"topic {re.escape(feed)}\b") as refused:
                await producer.partition_count(feed)
            assert expected in str(refused.value)
    finally:
        await producer.stop()
