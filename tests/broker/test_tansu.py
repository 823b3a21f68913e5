"""The tansu compatibility layer against the real broker: end offsets from Fetch responses."""

from __future__ import annotations

from faust.types import TP
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from streams.broker.tansu import (
    FETCH_MAX_WAIT_MS,
    IDLE_AFTER_SECONDS,
    IDLE_FETCH_MAX_WAIT_MS,
    QUIET_AFTER_SECONDS,
    QUIET_FETCH_MAX_WAIT_MS,
    FetchPacer,
    fetched_end_offsets,
)
from streams.local.embedded import EmbeddedBroker

TOPIC = "test.tansu.end-offsets"
KNOWN_TOPIC = "test.tansu.known-end-offsets"
#: A loopback port nothing listens on.
UNREACHABLE = "127.0.0.1:9"


def test_fetched_end_offsets_are_right_where_list_offsets_is_not(broker: EmbeddedBroker) -> None:
    servers = [broker.bootstrap_servers]
    admin = KafkaAdminClient(bootstrap_servers=servers)
    admin.create_topics([NewTopic(TOPIC, 2, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=servers, linger_ms=200, batch_size=1 << 20)
    for index in range(25):  # one batch: all land in partition 0 before the linger expires
        producer.send(TOPIC, value=b"x%d" % index, partition=0)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=servers)
    reported = consumer.end_offsets([TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
    consumer.close()

    fetched = fetched_end_offsets(
        servers, {TP(tp.topic, tp.partition): v for tp, v in reported.items()}
    )

    assert reported[TopicPartition(TOPIC, 0)] < 25  # the broker quirk this layer exists for
    assert fetched == {TP(TOPIC, 0): 25, TP(TOPIC, 1): 0}


def test_an_end_offset_is_fetched_again_only_once_the_partition_got_a_batch(
    broker: EmbeddedBroker,
) -> None:
    servers = [broker.bootstrap_servers]
    admin = KafkaAdminClient(bootstrap_servers=servers)
    admin.create_topics([NewTopic(KNOWN_TOPIC, 1, 1)])
    admin.close()
    tp = TP(KNOWN_TOPIC, 0)
    known: dict[TP, tuple[int, int]] = {}

    _send_one_batch(servers, KNOWN_TOPIC, 25)
    first = fetched_end_offsets(servers, _reported(servers, tp), known=known)
    # Nothing new: answered from what is known, without asking a broker (none listens here).
    again = fetched_end_offsets([UNREACHABLE], _reported(servers, tp), known=known)
    _send_one_batch(servers, KNOWN_TOPIC, 5)
    after_a_batch = fetched_end_offsets(servers, _reported(servers, tp), known=known)

    assert first == again == {tp: 25}
    assert after_a_batch == {tp: 30}
    assert known[tp][1] == 30


def _send_one_batch(servers: list[str], topic: str, records: int) -> None:
    producer = KafkaProducer(bootstrap_servers=servers, linger_ms=200, batch_size=1 << 20)
    for index in range(records):
        producer.send(topic, value=b"x%d" % index, partition=0)
    producer.flush()
    producer.close()


def _reported(servers: list[str], tp: TP) -> dict[TP, int]:
    """The end ListOffsets reports (the first offset of the last batch + 1 on tansu)."""
    consumer = KafkaConsumer(bootstrap_servers=servers)
    ends = consumer.end_offsets([TopicPartition(tp.topic, tp.partition)])
    consumer.close()
    return {TP(k.topic, k.partition): v for k, v in ends.items()}


def test_the_fetch_wait_is_short_while_records_flow_and_long_once_idle() -> None:
    now = [0.0]
    pacer = FetchPacer(clock=lambda: now[0])

    assert pacer.wait_ms(busy=True) == FETCH_MAX_WAIT_MS
    now[0] = IDLE_AFTER_SECONDS / 2
    assert pacer.wait_ms(busy=False) == FETCH_MAX_WAIT_MS  # a pause is not idleness yet
    now[0] = IDLE_AFTER_SECONDS + 0.01
    assert pacer.wait_ms(busy=False) == IDLE_FETCH_MAX_WAIT_MS
    assert not pacer.quiet()
    now[0] = QUIET_AFTER_SECONDS + 0.01
    assert pacer.quiet()
    assert pacer.wait_ms(busy=False) == QUIET_FETCH_MAX_WAIT_MS
    # The first records after a quiet spell bring the short wait back at once.
    assert pacer.wait_ms(busy=True) == FETCH_MAX_WAIT_MS
    assert not pacer.quiet()
    assert FETCH_MAX_WAIT_MS < IDLE_FETCH_MAX_WAIT_MS <= 1_000
    # A quiet look is held long enough for tansu to look at each partition twice.
    assert QUIET_FETCH_MAX_WAIT_MS >= IDLE_FETCH_MAX_WAIT_MS
