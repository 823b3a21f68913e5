"""aiokafka's fetcher as the hub corrects it (streams.broker.fetching), on the real broker.

Each correction is tested beside the fetcher's behaviour without it, so that each test can fail.
"""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from streams.broker.fetching import (
    RECORDS_PER_TURN,
    free_broker_at_once,
    release_fetch_hold,
    send_to_back,
)
from streams.local.embedded import EmbeddedBroker

#: A hold long enough that, were it in force, nothing could arrive during the test.
UNMISSABLE_HOLD_SECONDS = 600.0
#: How long a record on a partition nobody holds back may take to arrive (a loaded machine).
ARRIVAL_SECONDS = 10.0
#: How long the held-back record is looked for when a hold is in force.
HELD_LOOK_SECONDS = 2.0


def test_another_partition_is_fetched_while_one_partitions_records_wait(
    broker: EmbeddedBroker,
) -> None:
    arrived, kept = asyncio.run(_second_partition(broker.bootstrap_servers, release=True))

    assert arrived == [b"other institution"]
    assert kept == [b"backlog"]  # the waiting records are still there, untouched


def test_without_the_release_one_partitions_records_hold_back_the_others(
    broker: EmbeddedBroker,
) -> None:
    # What the release is for.
    arrived, kept = asyncio.run(_second_partition(broker.bootstrap_servers, release=False))

    assert arrived == []
    assert kept == [b"backlog"]


async def _second_partition(bootstrap: str, *, release: bool) -> tuple[list[bytes], list[bytes]]:
    """Fetch a record on partition 0 without taking it, then look for one on partition 1.

    Returns:
        The values that arrived on partition 1, and those then taken from partition 0.
    """
    topic = _new_topic(bootstrap)
    waiting, other = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=5
    )
    await consumer.start()
    producer = KafkaProducer(bootstrap_servers=[bootstrap])
    try:
        # aiokafka's own hold is 0.1 s: made unmissable, so that only the release can lift it.
        consumer._fetcher._prefetch_backoff = UNMISSABLE_HOLD_SECONDS
        if release:
            release_fetch_hold(consumer)
        consumer.assign([waiting, other])
        await consumer.seek_to_beginning(waiting, other)
        producer.send(topic, b"backlog", partition=0).get(timeout=30)
        await _until_fetched(consumer, waiting, 1)
        producer.send(topic, b"other institution", partition=1).get(timeout=30)
        look = ARRIVAL_SECONDS if release else HELD_LOOK_SECONDS
        arrived = await consumer.getmany(other, timeout_ms=int(look * 1000))
        kept = await consumer.getmany(waiting, timeout_ms=int(ARRIVAL_SECONDS * 1000))
    finally:
        producer.close()
        await consumer.stop()
    return [m.value for m in arrived.get(other, [])], [m.value for m in kept.get(waiting, [])]


def _new_topic(bootstrap: str) -> str:
    """A new topic of two partitions."""
    topic = f"test.fetch-hold.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=[bootstrap])
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    return topic


async def _until_fetched(consumer: AIOKafkaConsumer, tp: TopicPartition, records: int) -> None:
    """Wait until Fetch responses have brought ``tp``'s ``records`` (its high watermark)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ARRIVAL_SECONDS
    while consumer.highwater(tp) != records:
        assert loop.time() < deadline, "the first record was never fetched"
        await asyncio.sleep(0.01)


def test_partitions_take_turns_in_handing_on_their_fetched_records(
    broker: EmbeddedBroker,
) -> None:
    looks = asyncio.run(_looks_until_the_other_record(broker.bootstrap_servers, turns=True))

    assert looks == 2  # right after the backlog's first turn


def test_without_turns_a_backlogs_fetched_records_all_go_first(broker: EmbeddedBroker) -> None:
    # What the turns are for: the other record waits behind every fetched backlog record.
    looks = asyncio.run(_looks_until_the_other_record(broker.bootstrap_servers, turns=False))

    assert looks == BACKLOG // RECORDS_PER_TURN + 1


#: Records of the backlog partition, fetched in one response before the other record.
BACKLOG = 6 * RECORDS_PER_TURN


async def _looks_until_the_other_record(bootstrap: str, *, turns: bool) -> int:
    """How many looks at the fetched records, one turn each, hand on partition 1's record."""
    topic = _new_topic(bootstrap)
    backlog, other = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    producer = KafkaProducer(bootstrap_servers=[bootstrap], linger_ms=100)
    try:
        release_fetch_hold(consumer)
        consumer.assign([backlog, other])
        await consumer.seek_to_beginning(backlog, other)
        for number in range(BACKLOG):
            producer.send(topic, b"backlog %d" % number, partition=0)
        producer.flush()
        await _until_fetched(consumer, backlog, BACKLOG)
        producer.send(topic, b"other institution", partition=1).get(timeout=30)
        await _until_fetched(consumer, other, 1)
        for look in range(1, BACKLOG):
            served = await consumer._fetcher.fetched_records(
                {backlog, other}, timeout=0, max_records=RECORDS_PER_TURN
            )
            if other in served:
                return look
            if turns:
                send_to_back(consumer, served)
    finally:
        producer.close()
        await consumer.stop()
    raise AssertionError("the other partition's record was never handed on")


def test_a_finished_task_leaves_its_broker_free_at_once(broker: EmbeddedBroker) -> None:
    assert asyncio.run(_busy_after_a_task(broker.bootstrap_servers, freed=True)) is False


def test_without_the_fix_the_broker_stays_busy_until_the_tasks_callback(
    broker: EmbeddedBroker,
) -> None:
    # What the fix is for: only the task's done callback, run later, would free the broker.
    assert asyncio.run(_busy_after_a_task(broker.bootstrap_servers, freed=False)) is True


async def _busy_after_a_task(bootstrap: str, *, freed: bool) -> bool:
    """Whether the fetcher still counts a broker busy right after a task for it returned."""
    topic = _new_topic(bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        if freed:
            free_broker_at_once(consumer)
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        fetcher = consumer._fetcher
        assignment = consumer._subscription.subscription.assignment
        node_id = BUSY_NODE
        fetcher._in_flight.add(node_id)  # as the fetch loop marks it when it starts the task
        # A task with nothing to do returns at once, as a finished Fetch does.
        await fetcher._update_fetch_positions(assignment, node_id, [])
        return node_id in fetcher._in_flight
    finally:
        await consumer.stop()


#: A broker id no real broker has, so that the fetch loop's own tasks never free it.
BUSY_NODE = 4242
