"""A quiet consumer looks at its partitions every few seconds (streams.broker.tansu).

On the real broker: how often a quiet consumer's Fetch requests go, that a record sent while it
is quiet arrives at its next look, that records taken end the wait for the next look, and that
a consumer closes while a look waits. Which buffered records count as flowing is decided
without a broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from types import SimpleNamespace
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import TP
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from streams.broker.fetching import fetcher_of, free_broker_at_once, release_fetch_hold
from streams.broker.tansu import (
    QUIET_AFTER_SECONDS,
    QUIET_FETCH_MAX_WAIT_MS,
    ConsumerThread,
    FetchPacer,
    look_when_due,
)
from streams.local.embedded import EmbeddedBroker
from tests.clocks import ManualClock

#: Seconds between looks in these tests: short, but long beside a Fetch round trip.
LOOK_SECONDS = 1.5
#: Looks watched: the gaps between the Fetches of one more than this many.
LOOKS = 3
#: Longest gap between two looks, s: ten looks, room for a loaded machine, far short of never.
LATE_LOOK_SECONDS = 10 * LOOK_SECONDS
#: Seconds between looks where a test shows what must not wait for the next look: longer than
#: any run of the tests, so only the behaviour looked for ends the wait.
NEVER_SECONDS = 3600.0
#: Longest wait for what takes milliseconds, s: a guard against a hang on a loaded machine.
HANG_GUARD_SECONDS = 60.0


def _quiet_pacer(look_seconds: float = LOOK_SECONDS) -> FetchPacer:
    # Made at 0, the pacer finds itself quiet from the start.
    clock = ManualClock(0.0)
    pacer = FetchPacer(clock=clock, look_seconds=look_seconds)
    clock.now = QUIET_AFTER_SECONDS + 1
    return pacer


def test_a_quiet_consumer_looks_once_per_look_interval(broker: EmbeddedBroker) -> None:
    gaps = asyncio.run(_gaps_between_fetches(broker.bootstrap_servers, paced=True))

    # Never sooner than a look after the last (a loaded machine only makes a gap longer), and
    # never the stream of held Fetches of an unpaced one; nor a look skipped for good.
    assert len(gaps) == LOOKS, f"{len(gaps) + 1} Fetches in {HANG_GUARD_SECONDS} s: {gaps}"
    assert min(gaps) >= LOOK_SECONDS - 0.01, f"looks {LOOK_SECONDS} s apart, Fetches: {gaps}"
    assert max(gaps) <= LATE_LOOK_SECONDS, f"looks {LOOK_SECONDS} s apart, Fetches: {gaps}"


def test_without_the_pace_a_consumer_keeps_a_fetch_at_the_broker(broker: EmbeddedBroker) -> None:
    # What the pace is for: with the quiet wait alone, a Fetch goes every quarter of a second.
    gaps = asyncio.run(_gaps_between_fetches(broker.bootstrap_servers, paced=False))

    assert len(gaps) == LOOKS, f"{len(gaps) + 1} Fetches in {HANG_GUARD_SECONDS} s: {gaps}"
    assert min(gaps) < LOOK_SECONDS, f"Fetches {gaps} s apart"


async def _gaps_between_fetches(bootstrap: str, *, paced: bool) -> list[float]:
    """Seconds between the first LOOKS + 1 Fetch requests of a quiet consumer of an empty topic.

    Fewer when fewer went within HANG_GUARD_SECONDS.
    """
    consumer, _ = await _quiet_consumer(bootstrap, paced=paced)
    sent: list[float] = []
    enough = asyncio.Event()
    fetcher = fetcher_of(consumer)
    send = fetcher._client.send

    async def timing(node_id: int, request: Any, *args: Any, **kwargs: Any) -> Any:
        if type(request).__name__.startswith("FetchRequest"):
            sent.append(time.monotonic())
            if len(sent) > LOOKS:
                enough.set()
        return await send(node_id, request, *args, **kwargs)

    fetcher._client.send = timing
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), HANG_GUARD_SECONDS)
    finally:
        await consumer.stop()
    return [later - earlier for earlier, later in itertools.pairwise(sent[: LOOKS + 1])]


def test_a_record_sent_while_quiet_arrives_at_the_next_look(broker: EmbeddedBroker) -> None:
    waited, values = asyncio.run(_record_while_quiet(broker.bootstrap_servers))

    assert values == [b"a report after a quiet night"], f"nothing in {waited:.1f} s"
    # At the next look: a loaded machine may make it late, but not by ten looks.
    assert waited <= LATE_LOOK_SECONDS, f"arrived {waited:.1f} s after it was sent"


async def _record_while_quiet(bootstrap: str) -> tuple[float, list[bytes]]:
    consumer, topic = await _quiet_consumer(bootstrap, paced=True)
    producer = KafkaProducer(bootstrap_servers=[bootstrap])
    try:
        await asyncio.sleep(LOOK_SECONDS / 2)  # a look is under way or waiting
        producer.send(topic, b"a report after a quiet night", partition=1).get(timeout=30)
        sent = time.monotonic()
        fetched = await consumer.getmany(timeout_ms=int(HANG_GUARD_SECONDS * 1000))
        waited = time.monotonic() - sent
    finally:
        producer.close()
        await consumer.stop()
    return waited, [record.value for records in fetched.values() for record in records]


def test_a_consumer_closes_while_its_look_waits(broker: EmbeddedBroker) -> None:
    async def close_while_waiting() -> None:
        consumer, _ = await _quiet_consumer(
            broker.bootstrap_servers, paced=True, look_seconds=NEVER_SECONDS
        )
        await asyncio.sleep(LOOK_SECONDS / 3)  # its fetcher waits for a look meanwhile
        # Waiting for the next look, the close would outlast the guard by far.
        await asyncio.wait_for(consumer.stop(), timeout=HANG_GUARD_SECONDS)

    asyncio.run(close_while_waiting())


def test_records_taken_end_the_wait_for_the_next_look() -> None:
    pacer = _quiet_pacer(NEVER_SECONDS)

    async def woken_early() -> None:
        look = asyncio.create_task(pacer.next_look())
        await asyncio.sleep(0.05)
        pacer.wait_ms(busy=True)  # the consumer took records from the last response
        # Left to wait for its look, it would outlast the guard by far.
        await asyncio.wait_for(look, timeout=HANG_GUARD_SECONDS)

    asyncio.run(woken_early())
    assert not pacer.quiet()


def test_a_consumer_that_is_not_quiet_fetches_at_once() -> None:
    pacer = FetchPacer(look_seconds=3600)

    asyncio.run(asyncio.wait_for(pacer.next_look(), timeout=HANG_GUARD_SECONDS))


def test_buffered_changelog_records_do_not_count_as_flowing() -> None:
    # The worker's changelog records stay in aiokafka's buffer after recovery; counted, they kept
    # its consumer fetching every 5 ms for ever.
    thread: Any = SimpleNamespace(
        app=SimpleNamespace(tables=SimpleNamespace(changelog_topics={"kawal-case-state-changelog"}))
    )
    flowing = ConsumerThread._stream_records_wait

    assert not flowing(thread, {TP("kawal-case-state-changelog", 0): ["records"]})
    assert flowing(thread, {TP("kawal.inbound.bawaslu", 0): ["records"]})
    assert flowing(thread, {TP("kawal-case-state-changelog", 0): [], TP("kawal.inbound", 1): []})
    assert not flowing(thread, {})


async def _quiet_consumer(
    bootstrap: str, *, paced: bool, look_seconds: float = LOOK_SECONDS
) -> tuple[AIOKafkaConsumer, str]:
    """A started consumer of a new topic's two partitions, quiet from the start."""
    topic = f"test.quiet-looks.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=[bootstrap])
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=QUIET_FETCH_MAX_WAIT_MS,
    )
    await consumer.start()
    release_fetch_hold(consumer)
    free_broker_at_once(consumer)
    if paced:
        look_when_due(consumer, _quiet_pacer(look_seconds))
    partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer, topic
